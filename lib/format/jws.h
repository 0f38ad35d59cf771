/*
 * jws.h - the inner signature: a JWS in compact serialization (RFC 7515
 * section 7.1) with exactly one signature, PS256, and every header
 * parameter protected (compact serialization has no other kind).
 */
#ifndef E2E_JWS_H
#define E2E_JWS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/report.h"
#include "format/rsa.h"

/*
 * Appends header_b64 "." BASE64URL(payload) "." BASE64URL(signature) to
 * out (a secret buffer: it holds the plaintext), where header_json is the
 * protected header. Returns 0 or an exit code (in rep).
 */
int jws_sign(EVP_PKEY *priv, const char *header_json, const uint8_t *payload,
    size_t payload_len, struct buf *out, struct report *rep);

/*
 * The same JWS made as it is read: a source (buf.h) that reads the
 * payload from payload and gives header_b64 "." BASE64URL(payload) "."
 * BASE64URL(signature), hashing what it gives, so that a message of any
 * size is signed in a few hundred KiB. jws_stream_init reads the first
 * piece of the payload (a whole chat message: under JWS_STREAM_RAW
 * bytes); the signature is made once the rest is given. Returns 0 or an
 * exit code (in rep); free wipes what was held.
 */
#define JWS_STREAM_RAW (3 * 65536)	/* payload bytes read at a time */
struct jws_stream {
	EVP_PKEY *priv;
	EVP_MD_CTX *md;
	const struct source *payload;
	int phase;		/* 0 payload, 1 signature, 2 done */
	struct b64url_stream bs;
	uint8_t *raw;		/* JWS_STREAM_RAW bytes */
	char *text;		/* what is given next, encoded */
	size_t text_len, text_off;
	size_t raw_hi, text_hi;	/* bytes of raw and text ever written */
	uint8_t sig[RSA_MAX_BYTES];
	size_t sig_len;
};
int jws_stream_init(struct jws_stream *s, EVP_PKEY *priv,
    const char *header_json, const struct source *payload,
    struct report *rep);
struct source jws_stream_source(struct jws_stream *s);
void jws_stream_free(struct jws_stream *s);

/* The most a decoded JWS header may hold (FORMAT.md section 5, step 11). */
#define JWS_MAX_HEADER (16 * 1024)
/* jws_parse's refusal of a text that is not three parts. */
#define JWS_NOT_COMPACT \
	"the signed message is not a compact JWS with three parts"

struct jws {
	json_t *header;		/* the parsed protected header */
	char *text;		/* the compact JWS, not owned (NULL: hashed) */
	size_t signing_input_len;	/* header "." payload */
	size_t payload_off, payload_len;	/* encoded payload */
	uint8_t *sig;
	size_t sig_len;
	/* A JWS read in pieces (jwsfile.h): the SHA-256 of its signing
	 * input, which jws_verify checks instead of text. */
	int hashed;
	uint8_t digest[32];
};

/*
 * Parses a compact JWS held in text (len bytes): three base64url parts,
 * a protected header that is a JSON object of at most max_header bytes,
 * no "crit" and no "b64", "alg" exactly "PS256". Does not verify. On
 * failure returns 65 with a short reason in rep.
 */
int jws_parse(char *text, size_t len, struct jws *out, struct report *rep);

/*
 * jws_parse's checks once the two dots are found, in its order: the
 * header text (hlen characters), then the signature text (slen
 * characters; sig_text is read only when slen fits a signature, and may
 * be NULL otherwise). Sets header, sig and sig_len. Returns 0 or 65 with
 * the reason in rep.
 */
int jws_parse_parts(const char *hdr_text, size_t hlen, const char *sig_text,
    size_t slen, struct jws *j, struct report *rep);

/* Returns 1 when the signature is valid for pub, else 0. */
int jws_verify(const struct jws *j, EVP_PKEY *pub);

/* Decodes the payload in place (destroying the signing input: verify
 * first). Returns 0 or -1, with *p and *len pointing into j->text. */
int jws_decode_payload(struct jws *j, uint8_t **p, size_t *len);

void jws_free(struct jws *j);

/*
 * A compact JWS read as it is made, in pieces of any size (a signed
 * message decrypted from a file, FORMAT.md section 6.1): the signing
 * input is hashed as it goes, the header and signature texts are kept
 * (up to the most jws_parse_parts accepts) and the dots counted, so that
 * jws_scan_final makes jws_parse's checks, in its order and words, on a
 * text it never held whole. update says where the payload's text lies
 * in each piece (one range, possibly empty), for the caller to decode
 * as it goes. init returns 0 or 70 (in rep); update 0, or 70 when the
 * hash fails (nothing said: the caller reports it); final 0, or 65 with
 * jws_parse's reason in rep, with j set as jws_parse sets it but
 * hashed (text NULL), or 70. free wipes and frees.
 */
#define JWS_SCAN_HEAD ((JWS_MAX_HEADER + 2) / 3 * 4)
#define JWS_SCAN_SIG ((RSA_MAX_BYTES + 2) / 3 * 4)
struct jws_scan {
	EVP_MD_CTX *md;
	int dots;		/* seen so far, counting to 3 */
	uint64_t hlen, slen;	/* the header's and signature's texts */
	char head[JWS_SCAN_HEAD];
	char sig[JWS_SCAN_SIG];
};
int jws_scan_init(struct jws_scan *s, struct report *rep);
int jws_scan_update(struct jws_scan *s, const uint8_t *p, size_t n,
    size_t *pay_off, size_t *pay_len);
int jws_scan_final(struct jws_scan *s, struct jws *j, struct report *rep);
void jws_scan_free(struct jws_scan *s);

#endif
