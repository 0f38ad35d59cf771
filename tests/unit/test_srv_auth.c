/*
 * The server's passwords and tokens (auth.c) and failure counters
 * (throttle.c), at the function level (form bodies: test_srv_form.c):
 * SECURITY-TESTS.md B1-B3, T1-T3, T6, T7 and K14 (RFC 7515 A.1, A.5).
 * The bats file tests/bats/server_auth.bats drives the same through a
 * real server.
 */
#include "harness.h"

#include <crypt.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "format/crypto.h"
#include "server/auth.h"
#include "server/store.h"
#include "server/throttle.h"

#define VEC_DIR "tests/vectors/rfc/"
#define NOW ((int64_t)1700000000)
/* throttle.c counts in milliseconds of the wall clock. */
#define MS(sec) ((int64_t)(sec) * 1000)
#define TTL 86400
#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* A fixed 40-byte secret. */
static const uint8_t secret[40] = "unit-test token secret, forty bytes long";

static struct auth_keys keys;

static const struct store_user alice = {
	"0123456789ABCDEFGHJKMNPQRS", "alice", "", 0, 0
};

/* ---- token helpers ---- */

/* header.claims.HMAC-SHA-256(key) into a malloc'd string. */
static char *
forge_key(const uint8_t *key, size_t klen, const char *hdr,
    const char *claims)
{
	struct buf b = BUF_INIT;
	uint8_t mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;
	char *s;

	if (b64url_append(&b, (const uint8_t *)hdr, strlen(hdr)) != 0 ||
	    buf_append(&b, ".", 1) != 0 ||
	    b64url_append(&b, (const uint8_t *)claims, strlen(claims)) != 0 ||
	    crypto_hmac("SHA256", key, klen, b.p, b.len, mac, &mac_len,
	    NULL) != 0 ||
	    mac_len != 32 || buf_append(&b, ".", 1) != 0 ||
	    b64url_append(&b, mac, 32) != 0 || buf_terminate(&b) != 0) {
		fprintf(stderr, "cannot forge a token\n");
		exit(2);
	}
	s = strdup((const char *)b.p);
	buf_free(&b);
	if (s == NULL)
		exit(2);
	return s;
}

static char *
forge(const char *hdr, const char *claims)
{
	return forge_key(secret, sizeof(secret), hdr, claims);
}

/* alice's claims, with iat and exp given. */
static char *
claims_at(int64_t iat, int64_t exp)
{
	static char c[256];

	snprintf(c, sizeof(c), "{\"sub\":\"%s\",\"name\":\"alice\",\"ver\":0,"
	    "\"iat\":%lld,\"exp\":%lld}", alice.id, (long long)iat,
	    (long long)exp);
	return c;
}

static int
check_at(const char *token, int64_t now)
{
	struct auth_claims c;

	return auth_token_check(&keys, token, strlen(token), now, &c);
}

static int
check(const char *token)
{
	return check_at(token, NOW);
}

/* ---- passwords (B1-B3) ---- */

static void
test_password_round_trip(void)
{
	char h1[STORE_HASH_MAX + 1], h2[STORE_HASH_MAX + 1];

	CHECK(auth_password_hash("correct horse", 13, 4, h1) == 0);
	CHECK(strncmp(h1, "$2b$04$", 7) == 0);
	CHECK(strlen(h1) == 60);
	CHECK(auth_hash_cost(h1) == 4);
	CHECK(auth_password_check("correct horse", 13, h1) == 1);
	CHECK(auth_password_check("correct horsf", 13, h1) == 0);
	CHECK(auth_password_check("correct hors", 12, h1) == 0);
	CHECK(auth_password_check("Correct horse", 13, h1) == 0);
	/* The length given counts, not the NUL. */
	CHECK(auth_password_check("correct horse!", 13, h1) == 1);
	CHECK(auth_password_check("correct horse", 14, h1) == 0);
	/* Salted: the same password hashes differently each time. */
	CHECK(auth_password_hash("correct horse", 13, 4, h2) == 0);
	CHECK(strcmp(h1, h2) != 0);
	CHECK(auth_password_check("correct horse", 13, h2) == 1);
	/* Other costs. */
	CHECK(auth_password_hash("pw", 2, 5, h2) == 0);
	CHECK(strncmp(h2, "$2b$05$", 7) == 0);
	CHECK(auth_password_check("pw", 2, h2) == 1);
	/* Costs bcrypt has not: refused, not clamped. */
	CHECK(auth_password_hash("pw", 2, 3, h2) != 0);
	CHECK(auth_password_hash("pw", 2, 32, h2) != 0);
}

static void
test_password_72_bytes(void)
{
	char p[128], h72[STORE_HASH_MAX + 1], h73[STORE_HASH_MAX + 1];
	char h100[STORE_HASH_MAX + 1], h1024[STORE_HASH_MAX + 1];
	char big[AUTH_PASSWORD_MAX];

	/* B1: bcrypt alone reads 72 bytes; the pre-hash reads them all. */
	memset(p, 'p', sizeof(p));
	CHECK(auth_password_hash(p, 72, 4, h72) == 0);
	p[72] = 'x';
	CHECK(auth_password_hash(p, 73, 4, h73) == 0);
	CHECK(auth_password_check(p, 73, h72) == 0);
	CHECK(auth_password_check(p, 72, h73) == 0);
	CHECK(auth_password_check(p, 73, h73) == 1);
	CHECK(auth_password_check(p, 72, h72) == 1);
	memset(p, 'q', sizeof(p));
	CHECK(auth_password_hash(p, 100, 4, h100) == 0);
	CHECK(auth_password_check(p, 100, h100) == 1);
	CHECK(auth_password_check(p, 72, h100) == 0);
	CHECK(auth_password_check(p, 99, h100) == 0);
	p[90] = 'Q';
	CHECK(auth_password_check(p, 100, h100) == 0);
	/* Past 255 bytes (where $2b$ once wrapped around). */
	memset(big, 'r', sizeof(big));
	CHECK(auth_password_hash(big, sizeof(big), 4, h1024) == 0);
	CHECK(auth_password_check(big, sizeof(big), h1024) == 1);
	CHECK(auth_password_check(big, 256, h1024) == 0);
	CHECK(auth_password_check(big, sizeof(big) - 1, h1024) == 0);
}

static void
test_password_nul(void)
{
	char h[STORE_HASH_MAX + 1], habc[STORE_HASH_MAX + 1];

	/* B2 at the function level: the bytes after a NUL count (the
	 * routes refuse a NUL before this). */
	CHECK(auth_password_hash("abc\0def", 7, 4, h) == 0);
	CHECK(auth_password_check("abc\0def", 7, h) == 1);
	CHECK(auth_password_check("abc", 3, h) == 0);
	CHECK(auth_password_check("abc\0", 4, h) == 0);
	CHECK(auth_password_check("abc\0xyz", 7, h) == 0);
	CHECK(auth_password_hash("abc", 3, 4, habc) == 0);
	CHECK(auth_password_check("abc\0def", 7, habc) == 0);
	CHECK(auth_password_check("abc", 3, habc) == 1);
	/* An empty password still has a hash (the route refuses it). */
	CHECK(auth_password_hash("", 0, 4, h) == 0);
	CHECK(auth_password_check("", 0, h) == 1);
	CHECK(auth_password_check("\0", 1, h) == 0);
}

static void
test_password_prefixes(void)
{
	char h[STORE_HASH_MAX + 1], other[STORE_HASH_MAX + 1];
	static const char *const prefixes[] = { "$2a$", "$2x$", "$2y$" };
	size_t i;

	/* B3: only our own $2b$ hashes. libxcrypt computes these the same
	 * way for ASCII input, so only the prefix differs. */
	CHECK(auth_password_hash("pw", 2, 4, h) == 0);
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		memcpy(other, h, sizeof(other));
		memcpy(other, prefixes[i], 4);
		CHECKF(auth_password_check("pw", 2, other) == 0, "%s accepted",
		    prefixes[i]);
		CHECK(auth_hash_cost(other) == -1);
	}
	snprintf(other, sizeof(other), "$2$%s", h + 4);
	CHECK(auth_password_check("pw", 2, other) == 0);
	/* Damaged hashes. */
	CHECK(auth_password_check("pw", 2, "") == 0);
	CHECK(auth_password_check("pw", 2, "*0") == 0);
	CHECK(auth_password_check("pw", 2, "$2b$04$") == 0);
	memcpy(other, h, sizeof(other));
	other[59] = '\0';
	CHECK(auth_password_check("pw", 2, other) == 0);
	memcpy(other, h, sizeof(other));
	other[59] = other[59] == 'a' ? 'b' : 'a';
	CHECK(auth_password_check("pw", 2, other) == 0);
	/* A cost bcrypt refuses. */
	memcpy(other, h, sizeof(other));
	memcpy(other + 4, "99", 2);
	CHECK(auth_password_check("pw", 2, other) == 0);
	memcpy(other + 4, "03", 2);
	CHECK(auth_password_check("pw", 2, other) == 0);
}

/*
 * compat: an original server's hash (a plain bcrypt of the password,
 * imported behind AUTH_ORIGINAL_PREFIX): checked as it was made, then to
 * be made again (cost 0). Never confused with this server's hashes.
 */
static void
test_original_hash(void)
{
	char plain[STORE_HASH_MAX + 1], stored[STORE_HASH_MAX + 1];
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], pw[100], pw72[73];
	char ours[STORE_HASH_MAX + 1];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;
	static const char *const kinds[] = { "$2a$", "$2b$" };
	size_t i;

	if (cd == NULL)
		exit(2);
	for (i = 0; i < 2; i++) {
		/* What the original stored: bcrypt of the raw password. */
		CHECK(crypt_gensalt_rn(kinds[i], 4, NULL, 0, setting,
		    sizeof(setting)) != NULL);
		h = crypt_rn("old password", setting, cd, sizeof(*cd));
		CHECK(h != NULL && strlen(h) == 60);
		if (h == NULL || strlen(h) != 60)
			continue;
		memcpy(plain, h, 61);
		CHECK(auth_original_hash(plain, stored) == 0);
		CHECK(strncmp(stored, AUTH_ORIGINAL_PREFIX, 9) == 0 &&
		    strcmp(stored + 9, plain) == 0);
		CHECK(auth_password_check("old password", 12, stored) == 1);
		CHECK(auth_password_check("old passwore", 12, stored) == 0);
		CHECK(auth_password_check("old passwor", 11, stored) == 0);
		/* Its own cost (the time its check takes, for the padding
		 * of failed sign-ins), yet never current: made again in
		 * this scheme at the first sign-in, even at the same cost. */
		CHECK(auth_hash_cost(stored) == 4);
		CHECK(!auth_hash_current(stored, 4));
		/* Without the prefix it is not accepted (B3 stays). */
		CHECK(auth_password_check("old password", 12, plain) == 0);
	}
	/* bcrypt reads 72 bytes, as the original's did. */
	memset(pw, 'p', sizeof(pw));
	memcpy(pw72, pw, 72);
	pw72[72] = '\0';
	CHECK(crypt_gensalt_rn("$2b$", 4, NULL, 0, setting,
	    sizeof(setting)) != NULL);
	h = crypt_rn(pw72, setting, cd, sizeof(*cd));
	CHECK(h != NULL && auth_original_hash(h, stored) == 0);
	CHECK(auth_password_check(pw, 72, stored) == 1);
	CHECK(auth_password_check(pw, 100, stored) == 1);
	CHECK(auth_password_check(pw, 71, stored) == 0);
	/* A NUL never reaches crypt. */
	pw[10] = '\0';
	CHECK(auth_password_check(pw, 72, stored) == 0);
	/* Only bcrypt $2a$/$2b$ hashes, cost 04 to 31, whole. */
#define TAIL "abcdefghijklmnopqrstuuBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	CHECK(auth_original_hash("$2y$04$" TAIL, stored) == -1);
	CHECK(auth_original_hash("$2x$04$" TAIL, stored) == -1);
	CHECK(auth_original_hash("$2a$03$" TAIL, stored) == -1);
	CHECK(auth_original_hash("$2a$32$" TAIL, stored) == -1);
	CHECK(auth_original_hash("$2a$04$" TAIL "B", stored) == -1);
	CHECK(auth_original_hash("$2a$04$!bcdefghijklmnopqrstuu"
	    "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", stored) == -1);
	CHECK(auth_original_hash("$2a$04$" TAIL, stored) == 0);
	CHECK(auth_original_hash("$2b$31$" TAIL, stored) == 0);
#undef TAIL
	CHECK(auth_original_hash("plain", stored) == -1);
	CHECK(auth_original_hash("", stored) == -1);
	/* A damaged stored one is refused, and is no cost. */
	CHECK(auth_password_check("pw", 2, "original:") == 0);
	CHECK(auth_password_check("pw", 2, "original:$2b$04$") == 0);
	CHECK(auth_hash_cost("original:$2b$04$") == -1);
	/* This server's own hash behind the prefix is not ours either. */
	CHECK(auth_password_hash("pw", 2, 4, ours) == 0);
	memcpy(stored, AUTH_ORIGINAL_PREFIX, 9);
	memcpy(stored + 9, ours, 61);
	CHECK(auth_password_check("pw", 2, stored) == 0);
	wipe(cd, sizeof(*cd));
	free(cd);
}

static void
test_hash_cost(void)
{
	static const char salt53[] =
	    "abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234";
	char h[128];

	CHECK(strlen(salt53) == 53);
	snprintf(h, sizeof(h), "$2b$04$%s", salt53);
	CHECK(auth_hash_cost(h) == 4);
	snprintf(h, sizeof(h), "$2b$12$%s", salt53);
	CHECK(auth_hash_cost(h) == 12);
	snprintf(h, sizeof(h), "$2b$31$%s", salt53);
	CHECK(auth_hash_cost(h) == 31);
	/* Other prefixes, other shapes. */
	snprintf(h, sizeof(h), "$2a$12$%s", salt53);
	CHECK(auth_hash_cost(h) == -1);
	snprintf(h, sizeof(h), "$2y$12$%s", salt53);
	CHECK(auth_hash_cost(h) == -1);
	snprintf(h, sizeof(h), "$2B$12$%s", salt53);
	CHECK(auth_hash_cost(h) == -1);
	snprintf(h, sizeof(h), "$2b$4$%s", salt53);
	CHECK(auth_hash_cost(h) == -1);
	snprintf(h, sizeof(h), "$2b$012$%s", salt53);
	CHECK(auth_hash_cost(h) == -1);
	snprintf(h, sizeof(h), "$2b$1a$%s", salt53);
	CHECK(auth_hash_cost(h) == -1);
	snprintf(h, sizeof(h), "$2b$ 4$%s", salt53);
	CHECK(auth_hash_cost(h) == -1);
	snprintf(h, sizeof(h), "$2b$12$%sx", salt53);
	CHECK(auth_hash_cost(h) == -1);
	snprintf(h, sizeof(h), "$2b$12$%.52s", salt53);
	CHECK(auth_hash_cost(h) == -1);
	CHECK(auth_hash_cost("") == -1);
	CHECK(auth_hash_cost("$2b$") == -1);
	CHECK(auth_hash_cost("$2b$12$") == -1);
	/* Costs that no $2b$ hash can have (bcrypt's are 4 to 31). */
	snprintf(h, sizeof(h), "$2b$99$%s", salt53);
	CHECKF(auth_hash_cost(h) == -1, "cost 99: %d", auth_hash_cost(h));
	snprintf(h, sizeof(h), "$2b$00$%s", salt53);
	CHECKF(auth_hash_cost(h) == -1, "cost 00: %d", auth_hash_cost(h));
	snprintf(h, sizeof(h), "$2b$03$%s", salt53);
	CHECKF(auth_hash_cost(h) == -1, "cost 03: %d", auth_hash_cost(h));
	snprintf(h, sizeof(h), "$2b$32$%s", salt53);
	CHECKF(auth_hash_cost(h) == -1, "cost 32: %d", auth_hash_cost(h));
}

/* ---- the secret (T2) ---- */

static char tmpdir[] = "/tmp/test_srv_auth.XXXXXX";

static const char *
write_file(const char *name, const void *p, size_t n)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n ||
	    fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
	chmod(path, 0600);
	return path;
}

static void
test_secret_file(void)
{
	uint8_t big[AUTH_SECRET_MAX + 1];
	struct auth_keys k;
	struct report rep = { 0 };
	const char *path, *msg;

	memset(big, 0xa5, sizeof(big));
	memset(&k, 0, sizeof(k));
	/* RFC 7518 3.2: at least 256 bits for HS256. */
	path = write_file("s31", big, 31);
	CHECK(auth_secret_load(&k, path, NULL, &rep) == E2E_EX_DATAERR);
	msg = report_message(&rep);
	CHECKF(strstr(msg, "has 31 bytes; at least 32 are needed") != NULL,
	    "said: %s", msg);
	CHECK(rep.code == E2E_EX_DATAERR && rep.nlines == 1);
	CHECK(k.secret_len == 0);
	path = write_file("s0", big, 0);
	report_clear(&rep);
	CHECK(auth_secret_load(&k, path, NULL, &rep) != 0);
	msg = report_message(&rep);
	CHECKF(strstr(msg, "has 0 bytes") != NULL, "said: %s", msg);
	report_clear(&rep);
	CHECK(auth_secret_load(&k, write_file("s32", big, 32), NULL, &rep) ==
	    0);
	CHECK(!report_said(&rep));
	CHECK(k.secret_len == 32 && memcmp(k.secret, big, 32) == 0);
	/* The bytes as they are: a final newline is part of the secret. */
	CHECK(auth_secret_load(&k, write_file("nl", "0123456789abcdef0123456789abcde\n",
	    32), NULL, NULL) == 0);
	CHECK(k.secret_len == 32 && k.secret[31] == '\n');
	CHECK(auth_secret_load(&k, write_file("max", big, AUTH_SECRET_MAX),
	    NULL, NULL) == 0);
	CHECK(k.secret_len == AUTH_SECRET_MAX);
	path = write_file("over", big, AUTH_SECRET_MAX + 1);
	report_clear(&rep);
	capture_begin();
	CHECK(auth_secret_load(&k, path, NULL, &rep) != 0);
	msg = capture_end();
	CHECKF(msg[0] == '\0', "printed: %s", msg);
	msg = report_message(&rep);
	CHECKF(strstr(msg, "larger than the limit of 4096 bytes") != NULL,
	    "said: %s", msg);
	report_clear(&rep);
	CHECK(auth_secret_load(&k, "/nonexistent/secret", NULL, &rep) != 0);
	msg = report_message(&rep);
	CHECKF(strstr(msg, "cannot open secret file /nonexistent/secret") !=
	    NULL, "said: %s", msg);
	/* Readable by others: a warning and a hint, and the secret is
	 * used. */
	path = write_file("s32open", big, 32);
	CHECK(chmod(path, 0644) == 0);
	report_clear(&rep);
	CHECK(auth_secret_load(&k, path, NULL, &rep) == 0 && rep.code == 0 &&
	    rep.nlines == 2 && rep.line[0].level == REPORT_WARNING &&
	    strstr(rep.line[0].text, "can be read by group or others") !=
	    NULL && rep.line[1].level == REPORT_HINT);
}

static void
test_secret_kept(void)
{
	uint8_t fixed[32], first[32];
	struct auth_keys k1, k2;
	struct report rep = { 0 };
	struct store s;
	char db[256];

	/* No file: made on first start from crypto_random, then kept. */
	memset(&s, 0, sizeof(s));
	snprintf(db, sizeof(db), "%s/kept.db", tmpdir);
	if (store_open(&s, &store_sqlite, db, &rep) != 0) {
		CHECKF(0, "cannot open a store at %s: %s", db,
		    report_message(&rep));
		return;
	}
	memset(fixed, 0x5c, sizeof(fixed));
	crypto_test_set_random(fixed, sizeof(fixed));
	CHECK(auth_secret_load(&k1, NULL, &s, &rep) == 0);
	CHECK(!report_said(&rep));
	crypto_test_set_random(fixed, 0);
	CHECK(k1.secret_len == 32 && memcmp(k1.secret, fixed, 32) == 0);
	memcpy(first, k1.secret, 32);
	store_close(&s);
	memset(&s, 0, sizeof(s));
	CHECK(store_open(&s, &store_sqlite, db, NULL) == 0);
	CHECK(auth_secret_load(&k2, NULL, &s, NULL) == 0);
	CHECK(k2.secret_len == 32 && memcmp(k2.secret, first, 32) == 0);
	store_close(&s);
	/* Another database: another (real random) secret. */
	snprintf(db, sizeof(db), "%s/other.db", tmpdir);
	memset(&s, 0, sizeof(s));
	CHECK(store_open(&s, &store_sqlite, db, NULL) == 0);
	CHECK(auth_secret_load(&k2, NULL, &s, NULL) == 0);
	CHECK(k2.secret_len == 32 && memcmp(k2.secret, first, 32) != 0);
	store_close(&s);
}

/* Several servers on one database (issue 12): the first start keeps a
 * check of its secret (HMAC-SHA-256(secret, label), never the secret),
 * every later start compares; --secret-rotate replaces it. */
static void
test_secret_check(void)
{
	static const char label[] = "e2e-server secret check v1";
	uint8_t fixed[32], want[32];
	struct auth_keys k, other;
	struct report rep = { 0 };
	struct buf kept = BUF_INIT;
	struct store s;
	size_t len = 0;
	char db[256];

	memset(&s, 0, sizeof(s));
	snprintf(db, sizeof(db), "%s/check.db", tmpdir);
	if (store_open(&s, &store_sqlite, db, &rep) != 0) {
		CHECKF(0, "cannot open a store at %s: %s", db,
		    report_message(&rep));
		return;
	}
	memcpy(k.secret, secret, sizeof(secret));
	k.secret_len = sizeof(secret);
	memcpy(other.secret, secret, sizeof(secret));
	other.secret[0] ^= 1;
	other.secret_len = sizeof(secret);
	/* First start: kept; then the same secret passes, again. */
	CHECK(auth_secret_check(&k, "f", 0, &s, &rep) == 0);
	CHECK(!report_said(&rep));
	CHECK(auth_secret_check(&k, "f", 0, &s, &rep) == 0);
	CHECK(s.be->meta_get(&s, "jwt_secret_check", &kept) == STORE_OK);
	CHECK(crypto_hmac("SHA256", secret, sizeof(secret),
	    (const uint8_t *)label, sizeof(label) - 1, want, &len, NULL) == 0);
	CHECK(kept.len == 32 && memcmp(kept.p, want, 32) == 0);
	/* One bit of the secret differs: 78, said in one line. */
	CHECK(auth_secret_check(&other, "g", 0, &s, &rep) == E2E_EX_CONFIG);
	CHECK(strstr(report_message(&rep), "the token secret in g is not "
	    "the one the database is served with") != NULL);
	report_clear(&rep);
	CHECK(auth_secret_check(&other, NULL, 0, &s, &rep) == E2E_EX_CONFIG);
	CHECK(strstr(report_message(&rep), "the database is served with a "
	    "--secret-file") != NULL);
	report_clear(&rep);
	/* Rotated to the other: now the first is refused. */
	CHECK(auth_secret_check(&other, "g", 1, &s, &rep) == 0);
	CHECK(auth_secret_check(&other, "g", 0, &s, &rep) == 0);
	CHECK(auth_secret_check(&k, "f", 0, &s, &rep) == E2E_EX_CONFIG);
	report_clear(&rep);
	/* Rotated without a file: a fresh secret, kept, in k, checked. */
	memset(fixed, 0xa7, sizeof(fixed));
	crypto_test_set_random(fixed, sizeof(fixed));
	CHECK(auth_secret_check(&k, NULL, 1, &s, &rep) == 0);
	crypto_test_set_random(fixed, 0);
	CHECK(k.secret_len == 32 && memcmp(k.secret, fixed, 32) == 0);
	CHECK(s.be->meta_get(&s, "jwt_secret", &kept) == STORE_OK);
	CHECK(kept.len == 32 && memcmp(kept.p, fixed, 32) == 0);
	CHECK(auth_secret_check(&k, NULL, 0, &s, &rep) == 0);
	CHECK(auth_secret_check(&other, "g", 0, &s, &rep) == E2E_EX_CONFIG);
	report_clear(&rep);
	buf_free(&kept);
	store_close(&s);
}

/* A store that cannot be opened says why in the report, printing
 * nothing: a missing folder, a database from a later version. */
static void
test_store_open_report(void)
{
	struct report rep = { 0 };
	struct store s;
	sqlite3 *db = NULL;
	char path[256], want[400];

	snprintf(path, sizeof(path), "%s/no/such.db", tmpdir);
	capture_begin();
	CHECK(store_open(&s, &store_sqlite, path, &rep) != 0);
	CHECK(capture_end()[0] == '\0');
	store_close(&s);	/* as the server does: what was opened, freed */
	snprintf(want, sizeof(want), "cannot open the database %s: No such "
	    "file or directory", path);
	CHECKF(rep.code == E2E_EX_CANTCREAT && rep.nlines == 1 &&
	    strcmp(report_message(&rep), want) == 0, "said %d: %s", rep.code,
	    report_message(&rep));
	snprintf(path, sizeof(path), "%s/later.db", tmpdir);
	report_clear(&rep);
	CHECK(store_open(&s, &store_sqlite, path, &rep) == 0);
	CHECK(!report_said(&rep));
	store_close(&s);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_exec(db, "PRAGMA user_version=7;", NULL, NULL, NULL) ==
	    SQLITE_OK);
	sqlite3_close(db);
	capture_begin();
	CHECK(store_open(&s, &store_sqlite, path, &rep) != 0);
	CHECK(capture_end()[0] == '\0');
	store_close(&s);
	snprintf(want, sizeof(want), "the database %s has schema version 7; "
	    "this server knows up to 6", path);
	CHECKF(rep.code == E2E_EX_CANTCREAT && rep.nlines == 1 &&
	    strcmp(report_message(&rep), want) == 0, "said %d: %s", rep.code,
	    report_message(&rep));
}

/* ---- tokens (T1-T7) ---- */

static void
test_token_round_trip(void)
{
	struct store_user u = alice;
	struct auth_claims c;
	char *tok = NULL, *d1, *d2;
	int64_t exp = 0;
	struct buf part = BUF_INIT;
	json_t *j;
	uint8_t mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;
	char sig[64];

	u.token_version = 7;
	CHECK(auth_token_issue(&keys, &u, NOW, &tok, &exp) == 0);
	if (tok == NULL)
		return;
	CHECK(exp == NOW + TTL);
	CHECK(auth_token_check(&keys, tok, strlen(tok), NOW, &c) == 0);
	CHECK(strcmp(c.sub, u.id) == 0);
	CHECK(strcmp(c.name, "alice") == 0);
	CHECK(c.ver == 7);
	CHECK(c.exp == NOW + TTL);
	/* Valid until exp (exclusive), and from 60 s before iat. */
	CHECK(check_at(tok, NOW + TTL - 1) == 0);
	CHECK(check_at(tok, NOW + TTL) != 0);
	CHECK(check_at(tok, NOW + TTL + 1000000) != 0);
	CHECK(check_at(tok, NOW - 60) == 0);
	CHECK(check_at(tok, NOW - 61) != 0);
	/* Refused claims leave nothing behind. */
	CHECK(auth_token_check(&keys, tok, strlen(tok), NOW + TTL, &c) != 0);
	CHECK(c.sub[0] == '\0' && c.ver == 0 && c.exp == 0);

	/* Its shape: {"alg":"HS256","typ":"JWT"}, the claims as integers,
	 * and an HMAC-SHA-256 over the signing input (checked here with
	 * crypto_hmac, not with auth.c). */
	d1 = strchr(tok, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	CHECK(d1 != NULL && d2 != NULL && strchr(d2 + 1, '.') == NULL);
	if (d1 == NULL || d2 == NULL)
		goto out;
	CHECK(b64url_decode_buf(tok, (size_t)(d1 - tok), &part) == 0);
	j = jsonio_parse((const char *)part.p, part.len, NULL);
	CHECK(j != NULL && json_object_size(j) == 2 &&
	    strcmp(jsonio_str(j, "alg", NULL), "HS256") == 0 &&
	    strcmp(jsonio_str(j, "typ", NULL), "JWT") == 0);
	json_decref(j);
	CHECK(b64url_decode_buf(d1 + 1, (size_t)(d2 - d1 - 1), &part) == 0);
	j = jsonio_parse((const char *)part.p, part.len, NULL);
	CHECK(j != NULL && json_object_size(j) == 5);
	CHECK(json_integer_value(json_object_get(j, "iat")) == NOW);
	CHECK(json_integer_value(json_object_get(j, "exp")) == NOW + TTL);
	CHECK(json_integer_value(json_object_get(j, "ver")) == 7);
	CHECK(strcmp(jsonio_str(j, "sub", NULL), u.id) == 0);
	CHECK(strcmp(jsonio_str(j, "name", NULL), "alice") == 0);
	json_decref(j);
	CHECK(crypto_hmac("SHA256", secret, sizeof(secret),
	    (const uint8_t *)tok, (size_t)(d2 - tok), mac, &mac_len,
	    NULL) == 0 &&
	    mac_len == 32);
	b64url_encode(mac, 32, sig);
	CHECK(strlen(d2 + 1) == 43 && memcmp(sig, d2 + 1, 43) == 0);
out:
	buf_free(&part);
	free(tok);
}

static void
test_token_not_terminated(void)
{
	char *tok = NULL, *copy;
	int64_t exp;
	size_t n;

	/* The length given, not a NUL, ends the token. */
	CHECK(auth_token_issue(&keys, &alice, NOW, &tok, &exp) == 0);
	if (tok == NULL)
		return;
	n = strlen(tok);
	copy = malloc(n + 3);
	memcpy(copy, tok, n);
	memcpy(copy + n, "xyz", 3);
	{
		struct auth_claims c;

		CHECK(auth_token_check(&keys, copy, n, NOW, &c) == 0);
		CHECK(auth_token_check(&keys, copy, n + 1, NOW, &c) != 0);
		CHECK(auth_token_check(&keys, copy, n - 1, NOW, &c) != 0);
		/* A NUL inside the length. */
		copy[n] = '\0';
		CHECK(auth_token_check(&keys, copy, n + 1, NOW, &c) != 0);
	}
	free(copy);
	free(tok);
}

static void
test_token_secret(void)
{
	struct auth_keys other = keys;
	char *tok;

	/* T2: another secret, one byte more or less, one bit changed. */
	tok = forge(HDR, claims_at(NOW, NOW + 600));
	CHECK(check(tok) == 0);
	other.secret[0] ^= 1;
	CHECK(auth_token_check(&other, tok, strlen(tok), NOW,
	    &(struct auth_claims){ 0 }) != 0);
	other = keys;
	other.secret_len--;
	CHECK(auth_token_check(&other, tok, strlen(tok), NOW,
	    &(struct auth_claims){ 0 }) != 0);
	/* One byte more (not a zero byte: HMAC pads a short key with
	 * zeros, so K and K||00 are the same key). */
	other = keys;
	other.secret[other.secret_len++] = 'x';
	CHECK(auth_token_check(&other, tok, strlen(tok), NOW,
	    &(struct auth_claims){ 0 }) != 0);
	free(tok);
}

static void
test_token_headers(void)
{
	static const char *const bad[] = {
		"{\"alg\":\"none\"}", "{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}",
		"{\"alg\":\"HS384\"}", "{\"alg\":\"HS512\"}",
		"{\"alg\":\"RS256\"}", "{\"alg\":\"PS256\"}",
		"{\"alg\":\"ES256\"}", "{\"alg\":\"hs256\"}", "{\"alg\":\"\"}",
		"{\"alg\":null}", "{\"alg\":[\"HS256\"]}", "{\"typ\":\"JWT\"}",
		"{}", "{\"alg\":\"HS256\",\"kid\":\"0\"}",
		"{\"alg\":\"HS256\",\"jku\":\"http://127.0.0.1/k\"}",
		"{\"alg\":\"HS256\",\"jwk\":{}}",
		"{\"alg\":\"HS256\",\"x5u\":\"http://127.0.0.1/x\"}",
		"{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
		"{\"alg\":\"HS256\",\"b64\":false}",
		"{\"alg\":\"HS256\",\"cty\":\"JWT\"}",
		"{\"alg\":\"HS256\",\"typ\":\"jwt\"}",
		"{\"alg\":\"HS256\",\"typ\":\"JWS\"}",
		"{\"alg\":\"HS256\",\"typ\":\"\"}",
		"{\"alg\":\"HS256\",\"typ\":null}",
		"{\"alg\":\"HS256\",\"typ\":1}",
		"{\"alg\":\"HS256\",\"alg\":\"HS256\"}",
		"[\"HS256\"]", "\"HS256\"", "null", "", "{",
	};
	const char *c = claims_at(NOW, NOW + 600);
	char *tok;
	size_t i;

	/* T1: the controls. */
	tok = forge(HDR, c);
	CHECK(check(tok) == 0);
	free(tok);
	tok = forge("{\"alg\":\"HS256\"}", c);
	CHECK(check(tok) == 0);
	free(tok);
	tok = forge("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", c);
	CHECK(check(tok) == 0);
	free(tok);
	/* Every other header, correctly signed with HMAC-SHA-256. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tok = forge(bad[i], c);
		CHECKF(check(tok) != 0, "header %s accepted", bad[i]);
		free(tok);
	}
}

static void
test_token_claims(void)
{
	static const char *const bad[] = {
		/* T3: exp */
		"\"exp\":1699999999,\"iat\":1699999000",
		"\"exp\":1700000000,\"iat\":1699999000",
		"\"iat\":1700000000",
		"\"exp\":\"1700000600\",\"iat\":1700000000",
		"\"exp\":1700000600.0,\"iat\":1700000000",
		"\"exp\":1.7000006e9,\"iat\":1700000000",
		"\"exp\":null,\"iat\":1700000000",
		"\"exp\":true,\"iat\":1700000000",
		"\"exp\":9223372036854775808,\"iat\":1700000000",
		"\"exp\":9223372036854775807,\"iat\":1700000000",
		"\"exp\":-1,\"iat\":1700000000",
		"\"exp\":0,\"iat\":0",
		/* iat: missing, wrong type, in the future, lifetime > ttl */
		"\"exp\":1700000600",
		"\"exp\":1700000600,\"iat\":\"1700000000\"",
		"\"exp\":1700000600,\"iat\":1700000000.5",
		"\"exp\":1700000600,\"iat\":1700000061",
		"\"exp\":1700086401,\"iat\":1700000000",
		"\"exp\":1700000600,\"iat\":1700000601",
		/* nbf in the future (RFC 7519 4.1.5) */
		"\"exp\":1700000600,\"iat\":1700000000,\"nbf\":1700086400",
	};
	static const char *const good[] = {
		"\"exp\":1700000600,\"iat\":1700000000",
		"\"exp\":1700000001,\"iat\":1700000000",
		"\"exp\":1700086400,\"iat\":1700000000",
		"\"exp\":1700000600,\"iat\":1700000060",
		"\"exp\":1700000600,\"iat\":1699990000",
	};
	char c[512], *tok;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(c, sizeof(c), "{\"sub\":\"%s\",\"name\":\"alice\","
		    "\"ver\":0,%s}", alice.id, good[i]);
		tok = forge(HDR, c);
		CHECKF(check(tok) == 0, "claims %s refused", good[i]);
		free(tok);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(c, sizeof(c), "{\"sub\":\"%s\",\"name\":\"alice\","
		    "\"ver\":0,%s}", alice.id, bad[i]);
		tok = forge(HDR, c);
		CHECKF(check(tok) != 0, "claims %s accepted", bad[i]);
		free(tok);
	}
}

/* Run last: under UBSan an overflow here aborts the program. */
static void
test_token_overflow(void)
{
	static const char *const bad[] = {
		/* exp - iat overflows int64 (undefined behaviour; it wraps to
		 * a negative number, "not longer than the ttl"): such a
		 * token would never expire. */
		"\"exp\":9223372036854775807,\"iat\":-9223372036854775808",
		"\"exp\":9223372036854775807,\"iat\":-100",
		"\"exp\":6917529027641081856,\"iat\":-4611686018427387904",
	};
	char c[512], *tok;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(c, sizeof(c), "{\"sub\":\"%s\",\"name\":\"alice\","
		    "\"ver\":0,%s}", alice.id, bad[i]);
		tok = forge(HDR, c);
		CHECKF(check(tok) != 0, "claims %s accepted", bad[i]);
		free(tok);
	}
}

static void
test_token_identity(void)
{
	static const char *const bad[] = {
		"{\"name\":\"alice\",\"ver\":0,\"iat\":1700000000,\"exp\":1700000600}",
		"{\"sub\":\"0123456789ABCDEFGHJKMNPQRS\",\"ver\":0,"
		    "\"iat\":1700000000,\"exp\":1700000600}",
		"{\"sub\":\"0123456789ABCDEFGHJKMNPQRS\",\"name\":\"alice\","
		    "\"iat\":1700000000,\"exp\":1700000600}",
		"{\"sub\":\"0123456789ABCDEFGHJKMNPQRS\",\"name\":\"alice\","
		    "\"ver\":\"0\",\"iat\":1700000000,\"exp\":1700000600}",
		"{\"sub\":\"0123456789ABCDEFGHJKMNPQRS\",\"name\":\"alice\","
		    "\"ver\":0.0,\"iat\":1700000000,\"exp\":1700000600}",
		"{\"sub\":\"0123456789abcdefghjkmnpqrs\",\"name\":\"alice\","
		    "\"ver\":0,\"iat\":1700000000,\"exp\":1700000600}",
		"{\"sub\":\"0123456789ABCDEFGHJKMNPQR\",\"name\":\"alice\","
		    "\"ver\":0,\"iat\":1700000000,\"exp\":1700000600}",
		"{\"sub\":\"' OR '1'='1\",\"name\":\"alice\","
		    "\"ver\":0,\"iat\":1700000000,\"exp\":1700000600}",
		"{\"sub\":1,\"name\":\"alice\","
		    "\"ver\":0,\"iat\":1700000000,\"exp\":1700000600}",
		"{\"sub\":\"0123456789ABCDEFGHJKMNPQRS\",\"name\":1,"
		    "\"ver\":0,\"iat\":1700000000,\"exp\":1700000600}",
		/* a duplicate claim */
		"{\"sub\":\"0123456789ABCDEFGHJKMNPQRS\",\"name\":\"alice\","
		    "\"ver\":0,\"iat\":1700000000,\"exp\":1700000600,"
		    "\"exp\":1700000600}",
		"[1]", "\"x\"", "null", "", "{",
	};
	char c[512], name[80], *tok;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tok = forge(HDR, bad[i]);
		CHECKF(check(tok) != 0, "claims %s accepted", bad[i]);
		free(tok);
	}
	/* A name longer than any user's. */
	memset(name, 'n', sizeof(name));
	name[STORE_NAME_MAX + 1] = '\0';
	snprintf(c, sizeof(c), "{\"sub\":\"%s\",\"name\":\"%s\",\"ver\":0,"
	    "\"iat\":1700000000,\"exp\":1700000600}", alice.id, name);
	tok = forge(HDR, c);
	CHECK(check(tok) != 0);
	free(tok);
	name[STORE_NAME_MAX] = '\0';
	snprintf(c, sizeof(c), "{\"sub\":\"%s\",\"name\":\"%s\",\"ver\":0,"
	    "\"iat\":1700000000,\"exp\":1700000600}", alice.id, name);
	tok = forge(HDR, c);
	CHECK(check(tok) == 0);
	free(tok);
}

/* A token of exactly n bytes, correctly signed, or NULL. */
static char *
token_of_length(size_t n)
{
	char c[8192], pad[4000], *tok;
	size_t p;

	for (p = 0; p < sizeof(pad) - 1; p++) {
		memset(pad, 'x', p);
		pad[p] = '\0';
		snprintf(c, sizeof(c), "{\"sub\":\"%s\",\"name\":\"alice\","
		    "\"ver\":0,\"iat\":%lld,\"exp\":%lld,\"pad\":\"%s\"}",
		    alice.id, (long long)NOW, (long long)NOW + 600, pad);
		tok = forge(HDR, c);
		if (strlen(tok) == n)
			return tok;
		free(tok);
	}
	return NULL;
}

static void
test_token_shapes(void)
{
	struct auth_claims c;
	char *tok, *t, *huge, *d2;
	size_t n, i;
	static const char *const shapes[] = {
		"", ".", "..", "...", "a", "a.b", "a.b.c.d", "a..c", ".b.c",
		"a.b.", "eyJ.eyJ.", "....................................",
	};

	tok = forge(HDR, claims_at(NOW, NOW + 600));
	n = strlen(tok);
	CHECK(check(tok) == 0);
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		CHECKF(check(shapes[i]) != 0, "\"%s\" accepted", shapes[i]);
	CHECK(auth_token_check(&keys, tok, 0, NOW, &c) != 0);
	t = malloc(n + 64);
	d2 = strrchr(tok, '.');
	/* One dot fewer: header.claims only; one more: an extra part. */
	CHECK(auth_token_check(&keys, tok, (size_t)(d2 - tok), NOW, &c) != 0);
	snprintf(t, n + 64, "%s.", tok);
	CHECK(check(t) != 0);
	snprintf(t, n + 64, "%s.e30", tok);
	CHECK(check(t) != 0);
	snprintf(t, n + 64, "e30.%s", tok);
	CHECK(check(t) != 0);
	/* The signature: padded, standard base64, too short or long, with
	 * nonzero unused bits in its last character. */
	snprintf(t, n + 64, "%s=", tok);
	CHECK(check(t) != 0);
	snprintf(t, n + 64, "%sA", tok);
	CHECK(check(t) != 0);
	memcpy(t, tok, n + 1);
	t[n - 1] = '\0';
	CHECK(check(t) != 0);
	for (i = (size_t)(d2 + 1 - tok); i < n; i++) {
		memcpy(t, tok, n + 1);
		if (t[i] == '-' || t[i] == '_') {
			t[i] = t[i] == '-' ? '+' : '/';
			CHECKF(check(t) != 0, "standard base64 at %zu", i);
		}
		t[i] = ' ';
		CHECKF(check(t) != 0, "space at %zu", i);
	}
	memcpy(t, tok, n + 1);
	{
		/* The last of 43 characters carries 4 bits and 2 unused
		 * ones: flip an unused one. */
		static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_";
		const char *p = strchr(alpha, t[n - 1]);

		CHECK(p != NULL && ((p - alpha) & 3) == 0);
		if (p != NULL) {
			t[n - 1] = alpha[(p - alpha) ^ 1];
			CHECK(check(t) != 0);
		}
	}
	/* A bad base64 header or payload, correctly signed. */
	{
		uint8_t mac[EVP_MAX_MD_SIZE];
		size_t ml = 0;
		char si[256], sig[44];

		snprintf(si, sizeof(si), "eyJhbGciOiJIUzI1NiJ9=.%s",
		    strchr(tok, '.') + 1);
		*strrchr(si, '.') = '\0';
		crypto_hmac("SHA256", secret, sizeof(secret),
		    (const uint8_t *)si, strlen(si), mac, &ml, NULL);
		b64url_encode(mac, 32, sig);
		sig[43] = '\0';
		snprintf(t, n + 64, "%s.%s", si, sig);
		CHECK(check(t) != 0);
	}
	free(t);
	/* Bounded: AUTH_TOKEN_MAX bytes pass, one more does not. */
	t = token_of_length(AUTH_TOKEN_MAX);
	CHECK(t != NULL && check(t) == 0);
	free(t);
	t = token_of_length(AUTH_TOKEN_MAX + 1);
	CHECK(t != NULL && check(t) != 0);
	free(t);
	/* Huge: 1 MiB of dots, and a token followed by 1 MiB of dots (T6:
	 * refused before splitting). */
	huge = malloc((1 << 20) + n + 1);
	memset(huge, '.', (1 << 20) + n);
	huge[(1 << 20) + n] = '\0';
	CHECK(auth_token_check(&keys, huge, 1 << 20, NOW, &c) != 0);
	memcpy(huge, tok, n);
	CHECK(auth_token_check(&keys, huge, (1 << 20) + n, NOW, &c) != 0);
	memset(huge, 'A', 1 << 20);
	CHECK(auth_token_check(&keys, huge, 1 << 20, NOW, &c) != 0);
	free(huge);
	free(tok);
}

static void
test_token_every_change(void)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char *tok, *t;
	size_t n, i, j, tried = 0, accepted = 0;

	/* T7: every single-character change anywhere in the token. */
	CHECK(auth_token_issue(&keys, &alice, NOW, &tok, &(int64_t){ 0 }) ==
	    0);
	if (tok == NULL)
		return;
	n = strlen(tok);
	t = malloc(n + 1);
	for (i = 0; i < n; i++) {
		if (tok[i] == '.')
			continue;
		for (j = 0; j < 64; j++) {
			if (alpha[j] == tok[i])
				continue;
			memcpy(t, tok, n + 1);
			t[i] = alpha[j];
			tried++;
			if (check(t) == 0) {
				accepted++;
				fprintf(stderr, "accepted: %zu -> %c\n", i,
				    alpha[j]);
			}
		}
	}
	CHECK(tried == (n - 2) * 63);
	CHECK(accepted == 0);
	free(t);
	free(tok);
}

static void
test_rfc7515_a1(void)
{
	json_error_t e;
	json_t *v;
	struct auth_keys k;
	struct buf key = BUF_INIT, sig = BUF_INIT;
	uint8_t mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;
	char *tok = NULL;
	const char *prot, *pay, *s, *kk;
	size_t len;

	/* K14: RFC 7515 A.1, the HS256 example. */
	v = json_load_file(VEC_DIR "rfc7515-A.1-hs256.json", 0, &e);
	CHECKF(v != NULL, "cannot load rfc7515-A.1-hs256.json: %s", e.text);
	if (v == NULL)
		return;
	prot = json_string_value(json_object_get(v, "protected"));
	pay = json_string_value(json_object_get(v, "payload"));
	s = json_string_value(json_object_get(v, "signature"));
	kk = json_string_value(json_object_get(json_object_get(v, "key"), "k"));
	CHECK(prot && pay && s && kk);
	if (!(prot && pay && s && kk))
		goto out;
	CHECK(b64url_decode_buf(kk, strlen(kk), &key) == 0 && key.len == 64);
	CHECK(b64url_decode_buf(s, strlen(s), &sig) == 0 && sig.len == 32);
	len = strlen(prot) + strlen(pay) + strlen(s) + 3;
	tok = malloc(len);
	snprintf(tok, len, "%s.%s", prot, pay);
	/* Our HMAC over its signing input is its signature. */
	CHECK(crypto_hmac("SHA256", key.p, key.len, (const uint8_t *)tok,
	    strlen(tok), mac, &mac_len, NULL) == 0 && mac_len == 32 &&
	    sig.len == 32 && memcmp(mac, sig.p, 32) == 0);
	/* And its header passes ours ({"typ":"JWT", "alg":"HS256"}, with
	 * CR LF); yet the token is refused for its claims (no sub, name,
	 * ver or iat), even before its exp. */
	snprintf(tok, len, "%s.%s.%s", prot, pay, s);
	memset(&k, 0, sizeof(k));
	memcpy(k.secret, key.p, key.len);
	k.secret_len = key.len;
	k.ttl = TTL;
	CHECK(auth_token_check(&k, tok, strlen(tok), 1300819000,
	    &(struct auth_claims){ 0 }) != 0);
	CHECK(auth_token_check(&k, tok, strlen(tok), NOW,
	    &(struct auth_claims){ 0 }) != 0);
	/* With our claims and its header and key, it would pass: the
	 * refusal above is the claims'. */
	{
		char *ours, *hdr_json;
		const char *hj = json_string_value(json_object_get(v,
		    "protected_json"));

		hdr_json = hj ? strdup(hj) : NULL;
		CHECK(hdr_json != NULL);
		if (hdr_json != NULL) {
			ours = forge_key(key.p, key.len, hdr_json,
			    claims_at(NOW, NOW + 600));
			CHECK(auth_token_check(&k, ours, strlen(ours), NOW,
			    &(struct auth_claims){ 0 }) == 0);
			free(ours);
		}
		free(hdr_json);
	}
out:
	free(tok);
	buf_free(&key);
	buf_free(&sig);
	json_decref(v);
}

static void
test_rfc7515_a5(void)
{
	json_error_t e;
	json_t *v;
	const char *compact;
	char *tok;

	/* K14: A.5, unsecured (alg none): refused, and also when given a
	 * signature made with our secret. */
	v = json_load_file(VEC_DIR "rfc7515-A.5-none.json", 0, &e);
	CHECKF(v != NULL, "cannot load rfc7515-A.5-none.json: %s", e.text);
	if (v == NULL)
		return;
	compact = json_string_value(json_object_get(v, "compact"));
	CHECK(compact != NULL && check(compact) != 0);
	tok = forge("{\"alg\":\"none\"}", claims_at(NOW, NOW + 600));
	CHECK(check(tok) != 0);
	*(strrchr(tok, '.') + 1) = '\0';
	CHECK(check(tok) != 0);
	free(tok);
	json_decref(v);
}

/* ---- throttle.c ---- */

static void
test_throttle_limits(void)
{
	struct throttle *t = throttle_new(3, 60, 100);

	CHECK(t != NULL);
	if (t == NULL)
		return;
	CHECK(throttle_check(t, "alice", MS(NOW)) == 0);
	throttle_fail(t, "alice", MS(NOW));
	throttle_fail(t, "alice", MS(NOW + 1));
	CHECK(throttle_check(t, "alice", MS(NOW + 2)) == 0);
	throttle_fail(t, "alice", MS(NOW + 2));
	/* Blocked until the window that began at the first failure ends:
	 * Retry-After counts down to it. */
	CHECK(throttle_check(t, "alice", MS(NOW + 2)) == 58);
	CHECK(throttle_check(t, "alice", MS(NOW + 30)) == 30);
	CHECK(throttle_check(t, "alice", MS(NOW + 59)) == 1);
	/* Other keys are not touched; keys are exact. */
	CHECK(throttle_check(t, "bob", MS(NOW + 2)) == 0);
	CHECK(throttle_check(t, "alicE", MS(NOW + 2)) == 0);
	CHECK(throttle_check(t, "alic", MS(NOW + 2)) == 0);
	CHECK(throttle_check(t, "alice ", MS(NOW + 2)) == 0);
	/* More failures while blocked do not extend the window. */
	throttle_fail(t, "alice", MS(NOW + 50));
	CHECK(throttle_check(t, "alice", MS(NOW + 50)) == 10);
	/* Window over: free again, and counting starts afresh. */
	CHECK(throttle_check(t, "alice", MS(NOW + 60)) == 0);
	throttle_fail(t, "alice", MS(NOW + 61));
	throttle_fail(t, "alice", MS(NOW + 61));
	CHECK(throttle_check(t, "alice", MS(NOW + 61)) == 0);
	throttle_fail(t, "alice", MS(NOW + 62));
	CHECK(throttle_check(t, "alice", MS(NOW + 62)) == 59);
	throttle_free(t);

	/* A limit of one. */
	t = throttle_new(1, 900, 10);
	CHECK(throttle_check(t, "10.0.0.1", MS(NOW)) == 0);
	throttle_fail(t, "10.0.0.1", MS(NOW));
	CHECK(throttle_check(t, "10.0.0.1", MS(NOW)) == 900);
	CHECK(throttle_check(t, "10.0.0.2", MS(NOW)) == 0);
	/* IPv6 addresses are the longest keys the server uses. */
	throttle_fail(t, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
	    MS(NOW));
	CHECK(throttle_check(t,
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", MS(NOW)) == 900);
	throttle_free(t);
	throttle_free(NULL);
}

static void
test_throttle_long_key(void)
{
	struct throttle *t = throttle_new(2, 60, 100);
	char key[101];

	/* A key longer than the table keeps is still counted (throttle.h
	 * puts no bound on keys). */
	memset(key, 'k', 100);
	key[100] = '\0';
	throttle_fail(t, key, MS(NOW));
	throttle_fail(t, key, MS(NOW));
	CHECKF(throttle_check(t, key, MS(NOW)) == 60, "a 100-byte key: %u",
	    throttle_check(t, key, MS(NOW)));
	key[64] = '\0';
	throttle_fail(t, key, MS(NOW));
	throttle_fail(t, key, MS(NOW));
	CHECK(throttle_check(t, key, MS(NOW)) == 60);
	throttle_free(t);
}

static void
test_throttle_full(void)
{
	struct throttle *t;
	struct mallinfo2 before, after;
	char key[32];
	size_t i, kept = 0;

	/* 100k keys (the server's size): the table is made once; filling
	 * it twice over does not grow memory, and the newest windows are
	 * the ones kept. */
	t = throttle_new(1, 900, 100000);
	CHECK(t != NULL);
	if (t == NULL)
		return;
	before = mallinfo2();
	for (i = 0; i < 300000; i++) {
		snprintf(key, sizeof(key), "user%zu", i);
		/* The clock moves on: one second per 1000 keys. */
		throttle_fail(t, key, MS(NOW + (int64_t)(i / 1000)));
	}
	after = mallinfo2();
	CHECKF(after.uordblks <= before.uordblks + 4096,
	    "memory grew by %zu bytes", after.uordblks - before.uordblks);
	for (i = 299000; i < 300000; i++) {
		snprintf(key, sizeof(key), "user%zu", i);
		if (throttle_check(t, key, MS(NOW + 300)) > 0)
			kept++;
	}
	CHECKF(kept >= 990, "only %zu of the newest 1000 kept", kept);
	snprintf(key, sizeof(key), "user%d", 299999);
	CHECK(throttle_check(t, key, MS(NOW + 300)) == 900 - 1);
	/* Expired windows free their slots: later, every key may try. */
	CHECK(throttle_check(t, key, MS(NOW + 299 + 900)) == 0);
	throttle_free(t);
}

int
main(void)
{
	if (crypto_init(NULL) != 0)
		return 2;
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	memcpy(keys.secret, secret, sizeof(secret));
	keys.secret_len = sizeof(secret);
	keys.ttl = TTL;

	RUN(test_password_round_trip);
	RUN(test_password_72_bytes);
	RUN(test_password_nul);
	RUN(test_password_prefixes);
	RUN(test_original_hash);
	RUN(test_hash_cost);
	RUN(test_secret_file);
	RUN(test_secret_kept);
	RUN(test_secret_check);
	RUN(test_store_open_report);
	/* The folder is no longer needed (and an abort later would leave
	 * it). */
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	RUN(test_token_round_trip);
	RUN(test_token_not_terminated);
	RUN(test_token_secret);
	RUN(test_token_headers);
	RUN(test_token_claims);
	RUN(test_token_identity);
	RUN(test_token_shapes);
	RUN(test_token_every_change);
	RUN(test_rfc7515_a1);
	RUN(test_rfc7515_a5);
	RUN(test_throttle_limits);
	RUN(test_throttle_long_key);
	RUN(test_throttle_full);
	RUN(test_token_overflow);
	return harness_end();
}
