/*
 * curve.h — CURVE keys and the ZAP handler that admits only known clients.
 *
 * ZeroMQ's CURVE (CurveZMQ: Curve25519 key exchange, encrypted and
 * authenticated transport) proves to a client who the server is; which
 * clients may connect is decided by a ZAP handler, a REP socket on
 * inproc://zeromq.zap.01 in the same context that libzmq asks about every
 * new connection (RFC 27). Ours answers 200 only for client public keys in
 * the allow-list file; everyone else gets 400 and the connection is dropped
 * before any message flows.
 *
 * Key files: the first 40-character Z85 key on a line by itself, or the
 * value of `secret-key = "..."` / `public-key = "..."` (czmq zcert format).
 * The allow-list holds one public key per line; text after the key and
 * lines starting with '#' are ignored (names, comments).
 */
#ifndef LMDD_CURVE_H
#define LMDD_CURVE_H
#include <stddef.h>
#include <stdint.h>

/* Read a secret key file; fills both Z85 strings (41 bytes with NUL).
 * 0 or -1 with err. */
int curve_read_secret(const char *path, char secret_z85[41], char public_z85[41], char *err,
                      size_t errlen);
/* Read an allow-list: *keys = malloc'd array of n 32-byte keys. */
int curve_read_allowed(const char *path, uint8_t (**keys)[32], int *n, char *err, size_t errlen);
/* Generate a key pair (Z85). 0 or -1. */
int curve_keypair(char public_z85[41], char secret_z85[41]);

typedef struct zap_handler zap_handler;

/* Bind the ZAP endpoint in ctx and serve it from a thread. Takes ownership
 * of keys. NULL with err on failure. */
zap_handler *zap_start(void *ctx, uint8_t (*keys)[32], int n, char *err, size_t errlen);
/* Replace the allow-list (e.g. after SIGHUP); takes ownership. */
void zap_set_keys(zap_handler *z, uint8_t (*keys)[32], int n);
int64_t zap_denied(zap_handler *z);
int64_t zap_allowed(zap_handler *z);
void zap_stop(zap_handler **z);
#endif
