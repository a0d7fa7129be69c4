/*
 * curve.c — key files and the ZAP handler (see curve.h).
 *
 * Facts behind the design:
 *  - libzmq consults the ZAP handler only if something is bound to
 *    inproc://zeromq.zap.01 in the socket's context *before* the first
 *    connection arrives, so zap_start() runs before the PUB socket binds.
 *  - A ZAP request is: version "1.0", request id, domain, address, routing
 *    id, mechanism, then credentials (for CURVE: the client's 32-byte
 *    public key). The reply is version, request id, status code, status
 *    text, user id, metadata.
 *  - The handler thread polls with a 100 ms timeout so zap_stop() can end
 *    it without tearing the context down under it (zmq_ctx_term would
 *    otherwise wait forever for its open socket).
 *  - Keys are compared in constant time over the whole list so a client
 *    cannot learn key prefixes from response timing.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "curve.h"
#include "log.h"
#include "worker.h"

static int is_z85(char c)
{
	return c && strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#", c);
}

/* Find a Z85 key on a line: `name = "KEY"` if want_name given, else a bare
 * 40-char token at the start of the line. 1 if found. */
static int line_key(const char *line, const char *want_name, char out[41])
{
	const char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '#' || !*p)
		return 0;
	if (want_name && !strncmp(p, want_name, strlen(want_name))) {
		const char *q = strchr(p, '"');
		if (!q)
			return 0;
		q++;
		int n = 0;
		while (n < 40 && is_z85(q[n]) && q[n] != '"')
			n++;
		if (n != 40 || q[40] != '"')
			return 0;
		memcpy(out, q, 40);
		out[40] = 0;
		return 1;
	}
	int n = 0;
	while (is_z85(p[n]))
		n++;
	if (n != 40 || (p[40] && !isspace((unsigned char)p[40])))
		return 0;
	memcpy(out, p, 40);
	out[40] = 0;
	return 1;
}

int curve_read_secret(const char *path, char secret_z85[41], char public_z85[41], char *err,
                      size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open key file '%s': %s", path, strerror(errno));
		return -1;
	}
	char line[512];
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		found = line_key(line, "secret-key", secret_z85);
	fclose(f);
	uint8_t bin[32];
	if (!found || !zmq_z85_decode(bin, secret_z85)) {
		snprintf(err, errlen, "key file '%s': no 40-character Z85 secret key", path);
		return -1;
	}
	if (zmq_curve_public(public_z85, secret_z85) != 0) {
		snprintf(err, errlen, "key file '%s': cannot derive the public key: %s", path,
		         zmq_strerror(errno));
		return -1;
	}
	return 0;
}

int curve_read_allowed(const char *path, uint8_t (**keys)[32], int *n, char *err, size_t errlen)
{
	*keys = NULL;
	*n = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open allowed keys '%s': %s", path, strerror(errno));
		return -1;
	}
	char line[512], z[41];
	int lineno = 0, cap = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		const char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		if (!line_key(line, "public-key", z) && !line_key(line, NULL, z)) {
			snprintf(err, errlen, "%s:%d: expected a 40-character Z85 public key", path, lineno);
			goto fail;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			uint8_t (*nk)[32] = realloc(*keys, sizeof *nk * cap);
			if (!nk) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			*keys = nk;
		}
		if (!zmq_z85_decode((*keys)[*n], z)) {
			snprintf(err, errlen, "%s:%d: not a valid Z85 key", path, lineno);
			goto fail;
		}
		(*n)++;
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	free(*keys);
	*keys = NULL;
	*n = 0;
	return -1;
}

int curve_keypair(char public_z85[41], char secret_z85[41])
{
	return zmq_curve_keypair(public_z85, secret_z85) == 0 ? 0 : -1;
}

/* ---- ZAP ------------------------------------------------------------------ */

struct zap_handler {
	void *sock;
	worker w;                /* polls every 100 ms: no wake needed */
	pthread_mutex_t lock;
	uint8_t (*keys)[32];
	int n;
	atomic_llong denied, allowed;
};

static int key_allowed(zap_handler *z, const uint8_t *k)
{
	int ok = 0;
	pthread_mutex_lock(&z->lock);
	for (int i = 0; i < z->n; i++) {
		unsigned diff = 0;
		for (int j = 0; j < 32; j++)
			diff |= z->keys[i][j] ^ k[j];
		ok |= diff == 0;
	}
	pthread_mutex_unlock(&z->lock);
	return ok;
}

/* Receive all frames of one message: up to max, sizes in len. */
static int recv_all(void *s, zmq_msg_t *parts, int max)
{
	int n = 0, more = 1;
	while (more) {
		zmq_msg_t tmp, *m = n < max ? &parts[n] : &tmp;
		zmq_msg_init(m);
		if (zmq_msg_recv(m, s, 0) < 0) {
			zmq_msg_close(m);
			for (int i = 0; i < n && i < max; i++)
				zmq_msg_close(&parts[i]);
			return -1;
		}
		more = zmq_msg_more(m);
		if (n >= max)
			zmq_msg_close(m);
		n++;
	}
	return n;
}

static void send_str(void *s, const void *d, size_t n, int more)
{
	zmq_send(s, d, n, more ? ZMQ_SNDMORE : 0);
}

static void *zap_main(void *arg)
{
	zap_handler *z = arg;
	zmq_pollitem_t it = { z->sock, 0, ZMQ_POLLIN, 0 };
	while (!worker_stopping(&z->w)) {
		int r = zmq_poll(&it, 1, 100);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		zmq_msg_t p[8];
		int n = recv_all(z->sock, p, 8);
		if (n < 0)
			continue;
		int have = n < 8 ? n : 8;
		const char *code = "400", *text = "unknown client key";
		char uid[41] = "";
		if (have >= 7 && zmq_msg_size(&p[5]) == 5 && !memcmp(zmq_msg_data(&p[5]), "CURVE", 5) &&
		    zmq_msg_size(&p[6]) == 32) {
			const uint8_t *k = zmq_msg_data(&p[6]);
			if (key_allowed(z, k)) {
				code = "200";
				text = "OK";
				zmq_z85_encode(uid, k, 32);
			}
		} else if (have >= 6) {
			text = "CURVE required";
		}
		char peer[64] = "?";
		if (have >= 4)
			snprintf(peer, sizeof peer, "%.*s", (int)zmq_msg_size(&p[3]),
			         (const char *)zmq_msg_data(&p[3]));
		if (code[0] == '2') {
			atomic_fetch_add_explicit(&z->allowed, 1, memory_order_relaxed);
			log_info("zap: subscriber %s allowed (key %s)", peer, uid);
		} else {
			atomic_fetch_add_explicit(&z->denied, 1, memory_order_relaxed);
			log_notice("zap: subscriber %s denied: %s", peer, text);
		}
		send_str(z->sock, "1.0", 3, 1);
		if (have >= 2)
			send_str(z->sock, zmq_msg_data(&p[1]), zmq_msg_size(&p[1]), 1);
		else
			send_str(z->sock, "", 0, 1);
		send_str(z->sock, code, 3, 1);
		send_str(z->sock, text, strlen(text), 1);
		send_str(z->sock, uid, strlen(uid), 1);
		send_str(z->sock, "", 0, 0);
		for (int i = 0; i < have; i++)
			zmq_msg_close(&p[i]);
	}
	return NULL;
}

zap_handler *zap_start(void *ctx, uint8_t (*keys)[32], int n, char *err, size_t errlen)
{
	zap_handler *z = calloc(1, sizeof *z);
	if (!z) {
		free(keys);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&z->lock, NULL);
	z->keys = keys;
	z->n = n;
	z->sock = zmq_socket(ctx, ZMQ_REP);
	int linger = 0;
	if (!z->sock || zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger) ||
	    zmq_bind(z->sock, "inproc://zeromq.zap.01") != 0) {
		snprintf(err, errlen, "cannot bind the ZAP handler: %s", zmq_strerror(errno));
		if (z->sock)
			zmq_close(z->sock);
		z->sock = NULL;
		zap_stop(&z);
		return NULL;
	}
	if (worker_start(&z->w, zap_main, z) < 0) {
		snprintf(err, errlen, "cannot start the ZAP thread");
		zmq_close(z->sock);
		z->sock = NULL;
		zap_stop(&z);
		return NULL;
	}
	return z;
}

void zap_set_keys(zap_handler *z, uint8_t (*keys)[32], int n)
{
	pthread_mutex_lock(&z->lock);
	free(z->keys);
	z->keys = keys;
	z->n = n;
	pthread_mutex_unlock(&z->lock);
}

int64_t zap_denied(zap_handler *z) { return z ? atomic_load_explicit(&z->denied, memory_order_relaxed) : 0; }
int64_t zap_allowed(zap_handler *z) { return z ? atomic_load_explicit(&z->allowed, memory_order_relaxed) : 0; }

void zap_stop(zap_handler **pz)
{
	if (!pz || !*pz)
		return;
	zap_handler *z = *pz;
	if (z->sock) {
		worker_stop(&z->w, NULL, NULL);
		zmq_close(z->sock);
	}
	free(z->keys);
	pthread_mutex_destroy(&z->lock);
	free(z);
	*pz = NULL;
}
