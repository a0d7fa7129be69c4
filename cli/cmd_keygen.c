/*
 * cmd_keygen.c — `lmdd keygen FILE`: make a CURVE key pair for the daemon
 * (curve_secret_key_file) or a subscriber (--client-key-file). Writes the
 * secret key file with mode 0600 in czmq's zcert-like text form and prints
 * the public key, which goes into the daemon's allow-list (clients) or to
 * subscribers as --server-key (daemon). Refuses to overwrite without --force.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "curve.h"

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL;
	int force = 0, r;
	argv[0] = "lmdd keygen";   /* getopt's messages */
	optind = 1;
	while ((r = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (r == 'f') {
			force = 1;
		} else if (r == 'h') {
			printf("usage: lmdd keygen [--force] SECRET_KEY_FILE\n"
			       "Writes a new CURVE secret key (mode 0600) and prints its public key.\n");
			return 0;
		} else {
			fprintf(stderr, "usage: lmdd keygen [--force] SECRET_KEY_FILE\n");
			return EX_USAGE;
		}
	}
	if (optind + 1 == argc)
		path = argv[optind];
	if (!path) {
		fprintf(stderr, "usage: lmdd keygen [--force] SECRET_KEY_FILE\n");
		return EX_USAGE;
	}
	char pub[41], sec[41];
	if (curve_keypair(pub, sec) < 0) {
		fprintf(stderr, "lmdd keygen: libzmq cannot make CURVE keys (built without libsodium?)\n");
		return EX_UNAVAILABLE;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0600);
	if (fd < 0) {
		fprintf(stderr, "lmdd keygen: %s: %s%s\n", path, strerror(errno),
		        errno == EEXIST ? " (use --force to replace it)" : "");
		return EX_CANTCREAT;
	}
	fchmod(fd, 0600);
	char buf[256];
	int n = snprintf(buf, sizeof buf,
	                 "# lmdd CURVE secret key: keep private\n"
	                 "public-key = \"%s\"\nsecret-key = \"%s\"\n", pub, sec);
	int ok = write(fd, buf, n) == n;
	ok &= close(fd) == 0;
	memset(buf, 0, sizeof buf);
	memset(sec, 0, sizeof sec);
	if (!ok) {
		fprintf(stderr, "lmdd keygen: %s: write failed\n", path);
		return EX_IOERR;
	}
	printf("%s\n", pub);
	return 0;
}
