/* safety.c - safety numbers from key ids (see safety.h). */
#include "keys/safety.h"
#include "base/err.h"
#include "base/names.h"
#include "format/crypto.h"
#include "format/jwk.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define HALF_DIGITS 30
#define ITERATIONS 5200
#define LABEL "e2e-chat safety number v1"

/* Sorted, deduplicated, comma-joined: the longest is 16 ids. */
#define KIDS_TEXT_MAX (SAFETY_KIDS_MAX * (KID_LEN + 1))

static int
cmp_kid(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Checks one party's input; 0 or 65 (reported). who is "first" or
 * "second", for the message: the values themselves may be anything. */
static int
check_party(const char *name, const char *const *kids, size_t n,
    const char *who, struct report *rep)
{
	size_t i;

	if (name == NULL || !name_valid(name, strnlen(name,
	    NAME_LEN_MAX + 1)))
		return report_error(rep, E2E_EX_DATAERR, "safety number: the "
		    "%s user name is not valid", who);
	if (n == 0 || kids == NULL)
		return report_error(rep, E2E_EX_DATAERR, "safety number: no "
		    "key id for the %s user", who);
	if (n > SAFETY_KIDS_MAX)
		return report_error(rep, E2E_EX_DATAERR, "safety number: more "
		    "than %d key ids for the %s user", SAFETY_KIDS_MAX, who);
	for (i = 0; i < n; i++)
		if (kids[i] == NULL || !jwk_is_kid(kids[i], strnlen(kids[i],
		    KID_LEN + 1)))
			return report_error(rep, E2E_EX_DATAERR, "safety "
			    "number: a key id of the %s user is not valid",
			    who);
	return 0;
}

/* KIDS into text (NUL-terminated); returns its length. */
static size_t
join_kids(const char *const *kids, size_t n, char text[KIDS_TEXT_MAX])
{
	const char *v[SAFETY_KIDS_MAX];
	size_t i, len = 0;

	memcpy(v, kids, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_kid);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		if (len > 0)
			text[len++] = ',';
		memcpy(text + len, v[i], KID_LEN);
		len += KID_LEN;
	}
	text[len] = '\0';
	return len;
}

/* One party's 30 digits (and a NUL) into half; 0 or 70 (reported). */
static int
half(EVP_MD_CTX *ctx, const EVP_MD *md, const char *name,
    const char *const *kids, size_t n, char half_out[HALF_DIGITS + 1],
    struct report *rep)
{
	char text[KIDS_TEXT_MAX];
	uint8_t d[64];
	unsigned int dlen = 0;
	uint64_t v;
	size_t len, i, k;

	len = join_kids(kids, n, text);
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, LABEL, sizeof(LABEL)) != 1 ||	/* + NUL */
	    EVP_DigestUpdate(ctx, name, strlen(name) + 1) != 1 ||	/* + NUL */
	    EVP_DigestUpdate(ctx, text, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, d, &dlen) != 1 || dlen != sizeof(d))
		return report_crypto(rep, "computing a safety number");
	for (i = 1; i < ITERATIONS; i++)
		if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, d, sizeof(d)) != 1 ||
		    EVP_DigestUpdate(ctx, text, len) != 1 ||
		    EVP_DigestFinal_ex(ctx, d, &dlen) != 1 ||
		    dlen != sizeof(d))
			return report_crypto(rep, "computing a safety number");
	for (i = 0; i < HALF_DIGITS / 5; i++) {
		for (v = 0, k = 0; k < 5; k++)
			v = v << 8 | d[i * 5 + k];
		v %= 100000;
		for (k = 5; k-- > 0; v /= 10)
			half_out[i * 5 + k] = (char)('0' + v % 10);
	}
	half_out[HALF_DIGITS] = '\0';
	return 0;
}

int
safety_number(const char *name_a, const char *const *kids_a, size_t na,
    const char *name_b, const char *const *kids_b, size_t nb,
    char out[SAFETY_NUMBER_SIZE], struct report *rep)
{
	char ha[HALF_DIGITS + 1], hb[HALF_DIGITS + 1], all[2 * HALF_DIGITS];
	const EVP_MD *md;
	EVP_MD_CTX *ctx = NULL;
	size_t i, o;
	int rc;

	out[0] = '\0';
	if ((rc = check_party(name_a, kids_a, na, "first", rep)) != 0 ||
	    (rc = check_party(name_b, kids_b, nb, "second", rep)) != 0)
		return rc;
	if ((md = crypto_md("SHA512", rep)) == NULL)
		return E2E_EX_SOFTWARE;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return report_crypto(rep, "computing a safety number");
	if ((rc = half(ctx, md, name_a, kids_a, na, ha, rep)) != 0 ||
	    (rc = half(ctx, md, name_b, kids_b, nb, hb, rep)) != 0)
		goto out;
	/* Ascending order: the same number on both sides. */
	if (strcmp(ha, hb) <= 0) {
		memcpy(all, ha, HALF_DIGITS);
		memcpy(all + HALF_DIGITS, hb, HALF_DIGITS);
	} else {
		memcpy(all, hb, HALF_DIGITS);
		memcpy(all + HALF_DIGITS, ha, HALF_DIGITS);
	}
	for (i = 0, o = 0; i < sizeof(all); i++) {
		if (i > 0 && i % 5 == 0)
			out[o++] = ' ';
		out[o++] = all[i];
	}
	out[o] = '\0';
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}
