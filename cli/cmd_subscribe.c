/*
 * cmd_subscribe.c — `lmdd subscribe`: a ZeroMQ SUB client for the daemon's
 * events. Prints each message's JSON on one line of stdout (so it pipes
 * into jq or a log shipper) and can save the attached JPEG snapshots and PNG
 * heat-maps. With --server-key and --client-key-file it connects over CURVE;
 * the daemon admits it only if its public key is in the allow-list.
 *
 * Exit: 0 when --count messages arrived, or on SIGINT/SIGTERM, or at
 * --timeout without --count; 1 at --timeout with fewer than --count.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <zmq.h>

#include "cli.h"
#include "curve.h"

static atomic_int quit;   /* lock-free: set by the handler, on whichever thread (libzmq has its own) */

static void on_signal(int sig)
{
	quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lmdd subscribe [options]\n"
	        "  --endpoint E         daemon's publish endpoint (default tcp://127.0.0.1:5556)\n"
	        "  --topic T            topic prefix (default lmdd.event.; repeatable; '' = all)\n"
	        "  --status             also lmdd.status messages\n"
	        "  --server-key K       the daemon's CURVE public key (Z85) -> CURVE on\n"
	        "  --client-key-file F  this client's CURVE secret key file (lmdd keygen)\n"
	        "  --save-dir DIR       save snapshots (.jpg) and heat-maps (.png) there\n"
	        "  --count N            exit after N messages\n"
	        "  --timeout S          exit after S seconds\n");
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int save(const char *dir, const char *name, const void *d, size_t n, char *path, size_t pl)
{
	snprintf(path, pl, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(d, 1, n, f);
	int rc = fclose(f);
	return w == n && rc == 0 ? 0 : -1;
}

/* A name fit for a file: keep [A-Za-z0-9._-]. */
static void safe(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			*s = '_';
}

int cmd_subscribe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "topic", required_argument, NULL, 't' },
		{ "status", no_argument, NULL, 's' },
		{ "server-key", required_argument, NULL, 'k' },
		{ "client-key-file", required_argument, NULL, 'f' },
		{ "save-dir", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *endpoint = "tcp://127.0.0.1:5556", *server_key = NULL, *key_file = NULL,
	           *save_dir = NULL;
	const char *topics[16];
	int ntopics = 0, want_status = 0, c;
	long count = -1;
	double timeout = -1;
	char *end;
	argv[0] = "lmdd subscribe";   /* getopt's messages */
	optind = 1;
	while ((c = getopt_long(argc, argv, "e:t:sk:f:d:n:T:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e': endpoint = optarg; break;
		case 't':
			if (ntopics < 16)
				topics[ntopics++] = optarg;
			break;
		case 's': want_status = 1; break;
		case 'k': server_key = optarg; break;
		case 'f': key_file = optarg; break;
		case 'd': save_dir = optarg; break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || count < 1) {
				fprintf(stderr, "lmdd subscribe: --count wants a positive integer\n");
				return EX_USAGE;
			}
			break;
		case 'T':
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(timeout > 0)) {
				fprintf(stderr, "lmdd subscribe: --timeout wants seconds > 0\n");
				return EX_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind < argc || (!server_key) != (!key_file)) {
		if (optind >= argc)
			fprintf(stderr, "lmdd subscribe: --server-key and --client-key-file go together\n");
		usage(stderr);
		return EX_USAGE;
	}
	if (save_dir && mkdir(save_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "lmdd subscribe: cannot create %s: %s\n", save_dir, strerror(errno));
		return EX_CANTCREAT;
	}
	char pub[41], sec[41];
	if (key_file) {
		char err[400];
		if (curve_read_secret(key_file, sec, pub, err, sizeof err) < 0) {
			fprintf(stderr, "lmdd subscribe: %s\n", err);
			return EX_NOINPUT;
		}
		uint8_t tmp[32];
		if (strlen(server_key) != 40 || !zmq_z85_decode(tmp, server_key)) {
			fprintf(stderr, "lmdd subscribe: --server-key must be a 40-character Z85 key\n");
			return EX_USAGE;
		}
	}
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	void *ctx = zmq_ctx_new();
	void *s = zmq_socket(ctx, ZMQ_SUB);
	int zero = 0, rc = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	if (key_file) {
		if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_key, 40) ||
		    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40) ||
		    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40)) {
			fprintf(stderr, "lmdd subscribe: CURVE: %s\n", zmq_strerror(errno));
			rc = EX_SOFTWARE;
			goto out;
		}
	}
	if (ntopics == 0)
		topics[ntopics++] = "lmdd.event.";
	for (int i = 0; i < ntopics; i++)
		zmq_setsockopt(s, ZMQ_SUBSCRIBE, topics[i], strlen(topics[i]));
	if (want_status)
		zmq_setsockopt(s, ZMQ_SUBSCRIBE, "lmdd.status", 11);
	if (zmq_connect(s, endpoint) != 0) {
		fprintf(stderr, "lmdd subscribe: cannot connect to %s: %s\n", endpoint, zmq_strerror(errno));
		rc = EX_UNAVAILABLE;
		goto out;
	}
	long got = 0;
	double t0 = now_s();
	while (!quit && (count < 0 || got < count)) {
		int wait_ms = 200;
		if (timeout > 0) {
			double left = timeout - (now_s() - t0);
			if (left <= 0)
				break;
			if (left * 1000 < wait_ms)
				wait_ms = (int)(left * 1000) + 1;
		}
		zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
		int r = zmq_poll(&it, 1, wait_ms);
		if (r <= 0)
			continue;
		zmq_msg_t part[4];
		int n = 0, more = 1;
		while (more) {
			zmq_msg_t m;
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, s, 0) < 0) {
				zmq_msg_close(&m);
				break;
			}
			more = zmq_msg_more(&m);
			if (n < 4)
				part[n++] = m;
			else
				zmq_msg_close(&m);
		}
		if (n < 2) {
			for (int i = 0; i < n; i++)
				zmq_msg_close(&part[i]);
			continue;
		}
		char *json = strndup(zmq_msg_data(&part[1]), zmq_msg_size(&part[1]));
		cJSON *j = json ? cJSON_Parse(json) : NULL;
		if (j && save_dir) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "stream");
			const cJSON *fr = cJSON_GetObjectItemCaseSensitive(j, "frame");
			const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
			char base[200], name[240], path[1200];
			snprintf(base, sizeof base, "%s-%08lld-%s-%.8s",
			         cJSON_IsString(st) ? st->valuestring : "stream",
			         cJSON_IsNumber(fr) ? (long long)fr->valuedouble : 0LL,
			         cJSON_IsString(ty) ? ty->valuestring : "event",
			         cJSON_IsString(id) ? id->valuestring : "");
			safe(base);
			if (n >= 3 && zmq_msg_size(&part[2]) > 0) {
				snprintf(name, sizeof name, "%s.jpg", base);
				if (save(save_dir, name, zmq_msg_data(&part[2]), zmq_msg_size(&part[2]), path,
				         sizeof path) == 0)
					cJSON_AddStringToObject(j, "snapshot_file", path);
				else
					fprintf(stderr, "lmdd subscribe: cannot write %s: %s\n", path, strerror(errno));
			}
			if (n >= 4 && zmq_msg_size(&part[3]) > 0) {
				snprintf(name, sizeof name, "%s-heat.png", base);
				if (save(save_dir, name, zmq_msg_data(&part[3]), zmq_msg_size(&part[3]), path,
				         sizeof path) == 0)
					cJSON_AddStringToObject(j, "heatmap_file", path);
			}
		}
		if (j) {
			char *out = cJSON_PrintUnformatted(j);
			if (out) {
				puts(out);
				free(out);
			}
			cJSON_Delete(j);
		} else if (json) {
			puts(json);    /* not JSON: print as received */
		}
		fflush(stdout);
		free(json);
		for (int i = 0; i < n; i++)
			zmq_msg_close(&part[i]);
		got++;
	}
	if (count > 0 && got < count && !quit) {
		fprintf(stderr, "lmdd subscribe: timeout after %g s with %ld of %ld messages\n", timeout, got,
		        count);
		rc = 1;
	}
out:
	zmq_close(s);
	zmq_ctx_term(ctx);
	memset(sec, 0, sizeof sec);
	return rc;
}
