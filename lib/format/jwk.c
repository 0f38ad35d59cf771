/* jwk.c - RFC 7638 thumbprints of RSA keys. */
#include "format/jwk.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "format/crypto.h"
#include "format/rsa.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>

static int
append_bn(struct buf *out, EVP_PKEY *k, const char *param)
{
	BIGNUM *bn = NULL;
	uint8_t bytes[RSA_MAX_BYTES];
	int n, rc = -1;

	if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		goto out;
	/* BN_bn2bin writes the minimal big-endian form (RFC 7518 6.3.1.1). */
	n = BN_num_bytes(bn);
	if (n <= 0 || (size_t)n > sizeof(bytes))
		goto out;
	BN_bn2bin(bn, bytes);
	rc = b64url_append(out, bytes, (size_t)n);
out:
	BN_free(bn);
	return rc;
}

int
jwk_thumbprint(EVP_PKEY *k, char kid[KID_SIZE], struct report *rep)
{
	struct buf json = BUF_INIT;
	const EVP_MD *md = crypto_md("SHA256", rep);
	uint8_t digest[32];
	unsigned int dlen = 0;
	int rc = E2E_EX_SOFTWARE;

	kid[0] = '\0';
	if (md == NULL)
		goto out;
	if (buf_append_str(&json, "{\"e\":\"") != 0 ||
	    append_bn(&json, k, OSSL_PKEY_PARAM_RSA_E) != 0 ||
	    buf_append_str(&json, "\",\"kty\":\"RSA\",\"n\":\"") != 0 ||
	    append_bn(&json, k, OSSL_PKEY_PARAM_RSA_N) != 0 ||
	    buf_append_str(&json, "\"}") != 0) {
		rc = report_crypto(rep, "computing a key id");
		goto out;
	}
	if (EVP_Digest(json.p, json.len, digest, &dlen, md, NULL) != 1 ||
	    dlen != sizeof(digest)) {
		rc = report_crypto(rep, "computing a key id");
		goto out;
	}
	b64url_encode(digest, sizeof(digest), kid);
	kid[KID_LEN] = '\0';
	rc = 0;
out:
	buf_free(&json);
	return rc;
}

int
jwk_is_kid(const char *s, size_t len)
{
	uint8_t tmp[33];

	return len == KID_LEN && b64url_decode(s, len, tmp) == 32;
}
