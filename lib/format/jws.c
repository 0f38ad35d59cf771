/* jws.c - compact PS256 JWS (see jws.h). */
#include "format/jws.h"
#include "base/b64.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "format/crypto.h"
#include "format/rsa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
jws_sign(EVP_PKEY *priv, const char *header_json, const uint8_t *payload,
    size_t payload_len, struct buf *out, struct report *rep)
{
	uint8_t sig[RSA_MAX_BYTES];
	size_t start = out->len, sig_len = 0;
	int rc;

	if (b64url_append(out, (const uint8_t *)header_json,
	    strlen(header_json)) != 0 || buf_append(out, ".", 1) != 0 ||
	    b64url_append(out, payload, payload_len) != 0)
		return report_oom(rep);
	if ((rc = rsa_pss_sign(priv, out->p + start, out->len - start, sig,
	    &sig_len, rep)) != 0)
		return rc;
	if (buf_append(out, ".", 1) != 0 ||
	    b64url_append(out, sig, sig_len) != 0)
		return report_oom(rep);
	return 0;
}

/* Room for the encoding of JWS_STREAM_RAW bytes (plus a carry) or of a
 * header, whichever is larger, and a dot. */
#define JWS_STREAM_TEXT (b64url_enclen(JWS_STREAM_RAW + 2) + \
	b64url_enclen(JWS_MAX_HEADER) + 2)

/*
 * What raw and text held at most (s->raw_hi, s->text_hi), so that free
 * wipes those bytes only: the buffers are sized for a long message, and
 * wiping all of them after a short one would touch (fault in and clear)
 * some 110 pages never used, about 0.1 ms of a signed chat message. A
 * read that fails may have written anywhere up to its cap.
 */
static void
high_water(size_t *hi, size_t n)
{
	if (n > *hi)
		*hi = n;
}

int
jws_stream_init(struct jws_stream *s, EVP_PKEY *priv,
    const char *header_json, const struct source *payload,
    struct report *rep)
{
	size_t hlen = strlen(header_json), got = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	s->priv = priv;
	s->payload = payload;
	if (hlen > JWS_MAX_HEADER)
		return report_error(rep, E2E_EX_SOFTWARE,
		    "internal error: the signature header is too large");
	if ((s->raw = malloc(JWS_STREAM_RAW)) == NULL ||
	    (s->text = malloc(JWS_STREAM_TEXT)) == NULL)
		return report_oom(rep);
	b64url_encode((const uint8_t *)header_json, hlen, s->text);
	s->text_len = b64url_enclen(hlen);
	s->text[s->text_len++] = '.';
	high_water(&s->text_hi, s->text_len);
	rc = payload->read(payload->ctx, s->raw, JWS_STREAM_RAW, &got, rep);
	high_water(&s->raw_hi, rc != 0 ? JWS_STREAM_RAW : got);
	if (rc != 0)
		return rc;
	s->text_len += b64url_stream_update(&s->bs, s->raw, got,
	    s->text + s->text_len);
	/* Under JWS_STREAM_RAW bytes: the whole payload. */
	if (got < JWS_STREAM_RAW) {
		s->text_len += b64url_stream_final(&s->bs,
		    s->text + s->text_len);
		s->phase = 1;
	}
	high_water(&s->text_hi, s->text_len);
	if ((s->md = rsa_pss_sign_start(priv)) == NULL ||
	    rsa_pss_sign_update(s->md, s->text, s->text_len) != 1)
		return report_crypto(rep, "RSA-PSS signing");
	return 0;
}

/* Encodes the next piece of the payload, or the signature after its end,
 * into s->text. */
static int
jws_stream_next(struct jws_stream *s, struct report *rep)
{
	size_t got = 0, n;
	int rc;

	s->text_off = 0;
	s->text_len = 0;
	if (s->phase == 0) {
		rc = s->payload->read(s->payload->ctx, s->raw,
		    JWS_STREAM_RAW, &got, rep);
		high_water(&s->raw_hi, rc != 0 ? JWS_STREAM_RAW : got);
		if (rc != 0)
			return rc;
		n = b64url_stream_update(&s->bs, s->raw, got, s->text);
		if (got < JWS_STREAM_RAW) {
			n += b64url_stream_final(&s->bs, s->text + n);
			s->phase = 1;
		}
		s->text_len = n;
		high_water(&s->text_hi, n);
		if (n > 0 && rsa_pss_sign_update(s->md, s->text, n) != 1)
			return report_crypto(rep, "RSA-PSS signing");
		return 0;
	}
	if (s->phase == 1) {
		rc = rsa_pss_sign_finish(s->md, s->priv, s->sig, &s->sig_len,
		    rep);
		s->md = NULL;
		if (rc != 0)
			return rc;
		s->text[0] = '.';
		b64url_encode(s->sig, s->sig_len, s->text + 1);
		s->text_len = 1 + b64url_enclen(s->sig_len);
		high_water(&s->text_hi, s->text_len);
		s->phase = 2;
	}
	return 0;
}

static int
jws_stream_read(void *ctx, uint8_t *p, size_t cap, size_t *got,
    struct report *rep)
{
	struct jws_stream *s = ctx;
	size_t have = 0, n;
	int rc;

	while (have < cap) {
		if (s->text_off == s->text_len) {
			if (s->phase == 2)
				break;
			if ((rc = jws_stream_next(s, rep)) != 0)
				return rc;
			continue;
		}
		n = s->text_len - s->text_off;
		if (n > cap - have)
			n = cap - have;
		memcpy(p + have, s->text + s->text_off, n);
		s->text_off += n;
		have += n;
	}
	*got = have;
	return 0;
}

struct source
jws_stream_source(struct jws_stream *s)
{
	struct source src = { jws_stream_read, s };

	return src;
}

void
jws_stream_free(struct jws_stream *s)
{
	if (s->raw != NULL)
		wipe(s->raw, s->raw_hi);
	if (s->text != NULL)
		wipe(s->text, s->text_hi);
	free(s->raw);
	free(s->text);
	EVP_MD_CTX_free(s->md);
	memset(s, 0, sizeof(*s));
}

static int
fail(struct report *rep, const char *reason)
{
	return report_error(rep, E2E_EX_DATAERR, "%s", reason);
}

int
jws_parse(char *text, size_t len, struct jws *j, struct report *rep)
{
	char *d1, *d2;

	memset(j, 0, sizeof(*j));
	d1 = memchr(text, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - text)) : NULL;
	if (d1 == NULL || d2 == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - text)) != NULL)
		return fail(rep, JWS_NOT_COMPACT);
	if (jws_parse_parts(text, (size_t)(d1 - text), d2 + 1,
	    len - (size_t)(d2 + 1 - text), j, rep) != 0)
		return E2E_EX_DATAERR;
	j->text = text;
	j->signing_input_len = (size_t)(d2 - text);
	j->payload_off = (size_t)(d1 - text) + 1;
	j->payload_len = (size_t)(d2 - d1 - 1);
	return 0;
}

int
jws_parse_parts(const char *hdr_text, size_t hlen, const char *sig_text,
    size_t slen, struct jws *j, struct report *rep)
{
	struct report jwhy = { 0 };	/* what jsonio_parse says */
	struct buf hdr = BUF_INIT;
	const char *alg;
	long long n;
	int rc = E2E_EX_DATAERR;

	memset(j, 0, sizeof(*j));
	if (hlen == 0 || b64url_declen(hlen) > JWS_MAX_HEADER) {
		fail(rep, "the signature header is empty or too "
		    "large");
		goto out;
	}
	if (b64url_decode_buf(hdr_text, hlen, &hdr) != 0) {
		fail(rep, "the signature header is not base64url");
		goto out;
	}
	j->header = jsonio_parse((const char *)hdr.p, hdr.len, &jwhy);
	if (!json_is_object(j->header)) {
		report_error(rep, E2E_EX_DATAERR, "the signature header is not "
		    "a JSON object%s%s", j->header ? "" : ": ",
		    j->header ? "" : report_message(&jwhy));
		goto out;
	}
	alg = jsonio_str(j->header, "alg", NULL);
	if (alg == NULL || strcmp(alg, "PS256") != 0) {
		/* Also "none", "HS256" with a public key as secret, ... */
		fail(rep, "the signature algorithm is not PS256");
		goto out;
	}
	if (json_object_get(j->header, "crit") != NULL ||
	    json_object_get(j->header, "b64") != NULL) {
		fail(rep, "the signature header has \"crit\" or "
		    "\"b64\", which are not supported");
		goto out;
	}
	if (slen == 0 || b64url_declen(slen) > RSA_MAX_BYTES) {
		fail(rep, "the signature is missing or too long");
		goto out;
	}
	if ((j->sig = malloc(b64url_declen(slen))) == NULL) {
		fail(rep, "out of memory");
		goto out;
	}
	n = b64url_decode(sig_text, slen, j->sig);
	if (n <= 0) {
		fail(rep, "the signature is not base64url");
		goto out;
	}
	j->sig_len = (size_t)n;
	rc = 0;
out:
	buf_free(&hdr);
	if (rc != 0)
		jws_free(j);
	return rc;
}

int
jws_verify(const struct jws *j, EVP_PKEY *pub)
{
	if (j->hashed)
		return rsa_pss_verify_digest(pub, j->digest,
		    sizeof(j->digest), j->sig, j->sig_len);
	return rsa_pss_verify(pub, (const uint8_t *)j->text,
	    j->signing_input_len, j->sig, j->sig_len);
}

int
jws_decode_payload(struct jws *j, uint8_t **p, size_t *len)
{
	long long n;

	n = b64url_decode(j->text + j->payload_off, j->payload_len,
	    (uint8_t *)j->text + j->payload_off);
	if (n < 0)
		return -1;
	*p = (uint8_t *)j->text + j->payload_off;
	*len = (size_t)n;
	return 0;
}

void
jws_free(struct jws *j)
{
	json_decref(j->header);
	free(j->sig);
	j->header = NULL;
	j->sig = NULL;
}

int
jws_scan_init(struct jws_scan *s, struct report *rep)
{
	const EVP_MD *sha;

	memset(s, 0, sizeof(*s));
	if ((sha = crypto_md("SHA256", rep)) == NULL)
		return E2E_EX_SOFTWARE;
	if ((s->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->md, sha, NULL) != 1) {
		EVP_MD_CTX_free(s->md);
		s->md = NULL;
		return report_crypto(rep, "SHA-256");
	}
	return 0;
}

/* Keeps what fits of p[0..n) after the *have bytes of keep (cap). */
static void
scan_keep(char *keep, size_t cap, uint64_t *have, const uint8_t *p,
    size_t n)
{
	if (*have < cap)
		memcpy(keep + *have, p, cap - *have < n ? cap - *have : n);
	*have += n;
}

int
jws_scan_update(struct jws_scan *s, const uint8_t *p, size_t n,
    size_t *pay_off, size_t *pay_len)
{
	const uint8_t *d;
	size_t i = 0, k;

	*pay_off = *pay_len = 0;
	while (i < n && s->dots < 3) {
		d = memchr(p + i, '.', n - i);
		k = d != NULL ? (size_t)(d - (p + i)) : n - i;
		if (s->dots == 0) {
			scan_keep(s->head, sizeof(s->head), &s->hlen, p + i,
			    k);
		} else if (s->dots == 1) {
			*pay_off = i;
			*pay_len = k;
		} else if (s->dots == 2) {
			scan_keep(s->sig, sizeof(s->sig), &s->slen, p + i, k);
		}
		/* The signing input: everything before the second dot. */
		if (s->dots < 2 && EVP_DigestUpdate(s->md, p + i,
		    d != NULL && s->dots == 0 ? k + 1 : k) != 1)
			return E2E_EX_SOFTWARE;
		if (d == NULL)
			break;
		/* A third dot ends the reading: the text is refused. */
		s->dots++;
		i += k + 1;
	}
	return 0;
}

int
jws_scan_final(struct jws_scan *s, struct jws *j, struct report *rep)
{
	unsigned int dlen = 0;

	memset(j, 0, sizeof(*j));
	if (s->dots != 2)
		return fail(rep, JWS_NOT_COMPACT);
	/* Texts too long to keep are refused for their length alone. */
	if (jws_parse_parts(s->hlen <= sizeof(s->head) ? s->head : NULL,
	    s->hlen > SIZE_MAX ? SIZE_MAX : (size_t)s->hlen,
	    s->slen <= sizeof(s->sig) ? s->sig : NULL,
	    s->slen > SIZE_MAX ? SIZE_MAX : (size_t)s->slen, j, rep) != 0)
		return E2E_EX_DATAERR;
	if (EVP_DigestFinal_ex(s->md, j->digest, &dlen) != 1 ||
	    dlen != sizeof(j->digest)) {
		jws_free(j);
		return report_crypto(rep, "SHA-256");
	}
	j->hashed = 1;
	return 0;
}

void
jws_scan_free(struct jws_scan *s)
{
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
	/* The hash state and texts are of the plaintext. */
	wipe(s, sizeof(*s));
}
