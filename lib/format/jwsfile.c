/* jwsfile.c - a compact JWS checked in a temporary file (see jwsfile.h). */
#include "format/jwsfile.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/pipeline.h"
#include "format/crypto.h"
#include "format/rsa.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* The payload is read in pieces of PIECE characters (whole quads, so
 * that each decodes alone) in a ring of SLOTS buffers (pipeline.h). */
#define PIECE ((size_t)512 << 10)
#define SLOTS (PIPELINE_DEPTH + 1)
/* The most text a header or a signature may take, with its dot: anything
 * longer is refused by jws_parse_parts on its length alone. */
#define HEAD_MAX (b64url_enclen(JWS_MAX_HEADER) + 1)
#define TAIL_MAX (b64url_enclen(RSA_MAX_BYTES) + 1)

/* The worker's side: each piece decoded where it lies in the ring and
 * written to the start of the file, behind everything still to read. */
struct decode_job {
	struct outfile *out;
	uint64_t written;
	int bad;		/* a piece was not base64url: decode no more */
	struct report rep;
};

static int
decode_piece(void *ctx, uint8_t *p, size_t n)
{
	struct decode_job *job = ctx;
	long long m;
	int rc;

	if (job->bad)
		return 0;
	if ((m = b64url_decode((const char *)p, n, p)) < 0) {
		job->bad = 1;
		return 0;
	}
	if ((rc = outfile_pwrite(job->out, p, (size_t)m, job->written,
	    &job->rep)) != 0)
		return rc;
	job->written += (uint64_t)m;
	return 0;
}

/*
 * The payload's text [from, to): hashed into md here, decoded on the
 * worker. A dot in it sets *dot (a JWS of more than three parts) and
 * stops the reading.
 */
static int
payload_pass(struct outfile *out, uint64_t from, uint64_t to,
    EVP_MD_CTX *md, uint8_t *ring, struct decode_job *job, int *dot,
    struct report *rep)
{
	struct pipeline *pl;
	uint64_t pos;
	size_t k, n;
	int rc = 0, prc;

	if ((pl = pipeline_start(to - from > SIZE_MAX ? SIZE_MAX :
	    (size_t)(to - from), decode_piece, job)) == NULL)
		return report_oom(rep);
	for (pos = from, k = 0; pos < to; pos += n, k++) {
		uint8_t *slot = ring + (k % SLOTS) * PIECE;

		n = to - pos > PIECE ? PIECE : (size_t)(to - pos);
		if ((rc = outfile_pread(out, slot, n, pos, rep)) != 0)
			break;
		if (memchr(slot, '.', n) != NULL) {
			*dot = 1;
			break;
		}
		if (EVP_DigestUpdate(md, slot, n) != 1) {
			rc = report_crypto(rep, "SHA-256");
			break;
		}
		pipeline_push(pl, slot, n);
	}
	prc = pipeline_finish(pl);
	report_add(rep, &job->rep);
	report_clear(&job->rep);
	return rc != 0 ? rc : prc;
}

/* The first dots of the whole file, for a JWS whose parts are not where
 * a valid one's are (it is refused: only the reason is sought). */
static int
find_dots(struct outfile *out, uint64_t len, uint8_t *buf,
    uint64_t at[2], int *count, struct report *rep)
{
	uint64_t pos;
	size_t n, i;
	int rc;

	*count = 0;
	for (pos = 0; pos < len && *count < 3; pos += n) {
		n = len - pos > PIECE ? PIECE : (size_t)(len - pos);
		if ((rc = outfile_pread(out, buf, n, pos, rep)) != 0)
			return rc;
		for (i = 0; i < n && *count < 3; i++)
			if (buf[i] == '.') {
				if (*count < 2)
					at[*count] = pos + i;
				(*count)++;
			}
	}
	return 0;
}

int
jws_file_open(struct outfile *out, uint64_t len, struct jws_file *jf,
    struct report *rep)
{
	struct decode_job job;
	EVP_MD_CTX *md = NULL;
	const EVP_MD *sha;
	char *head = NULL, *tail = NULL;
	const char *d, *sig;
	uint8_t *ring = NULL;
	size_t hn = len < HEAD_MAX ? (size_t)len : HEAD_MAX;
	size_t tn = len < TAIL_MAX ? (size_t)len : TAIL_MAX;
	uint64_t tail_off = len - tn, at[2] = { 0, 0 }, slen;
	unsigned int dlen = 0;
	int rc, found = 0, dot = 0, count = 0;

	memset(jf, 0, sizeof(*jf));
	memset(&job, 0, sizeof(job));
	job.out = out;
	if ((head = malloc(HEAD_MAX)) == NULL ||
	    (tail = malloc(TAIL_MAX)) == NULL ||
	    (ring = malloc(SLOTS * PIECE)) == NULL) {
		rc = report_oom(rep);
		goto out;
	}
	/* A valid JWS's first dot is in its first HEAD_MAX bytes and its
	 * last in its last TAIL_MAX; between them, only the payload. */
	if ((rc = outfile_pread(out, head, hn, 0, rep)) != 0 ||
	    (rc = outfile_pread(out, tail, tn, tail_off, rep)) != 0)
		goto out;
	if ((d = memchr(head, '.', hn)) != NULL)
		at[0] = (uint64_t)(d - head);
	if (d != NULL && (d = memrchr(tail, '.', tn)) != NULL) {
		at[1] = tail_off + (uint64_t)(d - tail);
		found = at[1] > at[0];
	}
	if (found) {
		/* The payload is decoded over the header's text, which head
		 * keeps: the signing input is hashed as it goes. */
		if ((sha = crypto_md("SHA256", rep)) == NULL ||
		    (md = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(md, sha, NULL) != 1 ||
		    EVP_DigestUpdate(md, head, (size_t)at[0] + 1) != 1) {
			rc = report_crypto(rep, "SHA-256");
			goto out;
		}
		if ((rc = payload_pass(out, at[0] + 1, at[1], md, ring, &job,
		    &dot, rep)) != 0)
			goto out;
		count = dot ? 3 : 2;
	} else if ((rc = find_dots(out, len, ring, at, &count, rep)) != 0) {
		goto out;
	}
	rc = E2E_EX_DATAERR;
	if (count != 2) {
		report_error(rep, rc, "%s", JWS_NOT_COMPACT);
		goto out;
	}
	slen = len - at[1] - 1;
	sig = slen < TAIL_MAX ? tail + (at[1] + 1 - tail_off) : NULL;
	if (jws_parse_parts(at[0] < HEAD_MAX ? head : NULL, (size_t)at[0],
	    sig, (size_t)(slen < TAIL_MAX ? slen : TAIL_MAX), &jf->j,
	    rep) != 0)
		goto out;
	/* Parts that pass lie where the first reading looked. */
	if (!found) {
		rc = report_error(rep, E2E_EX_SOFTWARE,
		    "the signed message's parts were not found");
		goto out;
	}
	if (EVP_DigestFinal_ex(md, jf->j.digest, &dlen) != 1 ||
	    dlen != sizeof(jf->j.digest)) {
		rc = report_crypto(rep, "SHA-256");
		goto out;
	}
	jf->j.hashed = 1;
	jf->pt_len = job.written;
	jf->payload_bad = job.bad;
	rc = 0;
out:
	if (rc != 0)
		jws_file_free(jf);
	EVP_MD_CTX_free(md);
	if (ring != NULL) {
		wipe(ring, SLOTS * PIECE);
		free(ring);
	}
	free(head);
	free(tail);
	return rc;
}

void
jws_file_free(struct jws_file *jf)
{
	jws_free(&jf->j);
	/* The hash of the plaintext: not the plaintext, but of it. */
	wipe(jf->j.digest, sizeof(jf->j.digest));
}
