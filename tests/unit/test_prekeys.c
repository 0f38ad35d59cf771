/*
 * lib/keys/prekeys.c: the client's store of private prekeys (forward
 * secrecy, docs/FORMAT.md section 11): batches, publication, the stock,
 * lookups by pkid, use, the sweep with tombstones, the file's mode and
 * its refusals (C2, C3), and the claimed prekey records.
 */
#include "harness.h"

#include "base/jsonio.h"
#include "format/crypto.h"
#include "keys/prekeys.h"

#define IKID "sa58v0dhmhXOXVF-ddQWVzkv7VYg9_vIO6wdWcgyKrY"
#define ZERO43 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define OTHER "Y6uyIp-NFRQQmtZ9rLcfgpiPEqI5_c0iGbHeHZmM_zA"

static char home[512], path[600];

static struct prekeys *
reopen(int for_update)
{
	struct prekeys *p = NULL;
	struct report r = { 0 };

	CHECKF(prekeys_open(home, for_update, &p, &r) == 0, "open: %s",
	    report_message(&r));
	return p;
}

static void
life_cycle(void)
{
	static struct prekey_public pub[PREKEYS_BATCH];
	struct prekey_public sp, got[4];
	struct prekeys_stock st;
	struct jwe_prekey k;
	struct prekeys *p = reopen(1);
	uint8_t x[X25519_LEN];
	struct stat sb;
	size_t i;

	CHECK(prekeys_generate(p, IKID, JWE_FS_ONE_TIME, PREKEYS_BATCH, 1000,
	    pub, NULL) == 0);
	CHECK(prekeys_generate(p, IKID, JWE_FS_SIGNED, 1, 1000, &sp,
	    NULL) == 0);
	CHECK(prekeys_generate(p, OTHER, JWE_FS_ONE_TIME, 2, 1000, got,
	    NULL) == 0);
	CHECK(prekeys_generate(p, IKID, JWE_FS_ONE_TIME, 0, 1000, NULL,
	    NULL) == E2E_EX_USAGE);
	CHECK(prekeys_save(p, NULL) == 0);
	prekeys_close(p);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);

	p = reopen(1);
	prekeys_stock(p, IKID, &st);
	CHECK(st.one_time == PREKEYS_BATCH && st.unpublished ==
	    PREKEYS_BATCH && st.has_signed && strcmp(st.signed_pkid,
	    sp.pkid) == 0);
	/* Unpublished: the batch and the signed one; then published. */
	CHECK(prekeys_unpublished(p, IKID, got, 4) == PREKEYS_BATCH + 1);
	for (i = 0; i < PREKEYS_BATCH; i++)
		CHECK(prekeys_mark_published(p, pub[i].pkid) == 0);
	CHECK(prekeys_mark_published(p, sp.pkid) == 0);
	CHECK(prekeys_unpublished(p, IKID, got, 4) == 0);
	CHECK(prekeys_unpublished(p, NULL, got, 4) == 2);	/* OTHER's */
	CHECK(prekeys_mark_published(p, "nope") == -1);
	/* Found by pkid, for its identity only; the pair agrees. */
	CHECK(prekeys_find(p, IKID, pub[7].pkid, &k) == 0 &&
	    k.kind == JWE_FS_ONE_TIME);
	CHECK(x25519_public(k.priv, x, NULL) == 0 && memcmp(x, pub[7].x,
	    X25519_LEN) == 0);
	CHECK(prekeys_find(p, OTHER, pub[7].pkid, &k) == -1);
	CHECK(prekeys_find(p, IKID, sp.pkid, &k) == 0 &&
	    k.kind == JWE_FS_SIGNED);
	/* Used at 2000 with a grace of 100: kept at 2099, erased at 2100,
	 * a tombstone left. A signed prekey is never marked used. */
	CHECK(prekeys_mark_used(p, pub[7].pkid, 2000, 100) == 0);
	CHECK(prekeys_mark_used(p, sp.pkid, 2000, 100) == 0);
	CHECK(prekeys_sweep(p, 2099, 1000) == 0);
	CHECK(prekeys_sweep(p, 2100, 1000) == 1);
	CHECK(prekeys_find(p, IKID, pub[7].pkid, &k) == 1);
	CHECK(prekeys_find(p, IKID, sp.pkid, &k) == 0);
	CHECK(prekeys_find(p, IKID, pub[8].pkid, &k) == 0);
	/* A shorter grace later erases sooner. */
	CHECK(prekeys_mark_used(p, pub[8].pkid, 3000, 100000) == 0);
	CHECK(prekeys_sweep(p, 3010, 10) == 1);
	CHECK(prekeys_save(p, NULL) == 0);
	prekeys_close(p);

	/* The erasure is in the file: tombstones, no private key. */
	p = reopen(0);
	CHECK(prekeys_find(p, IKID, pub[7].pkid, &k) == 1);
	CHECK(prekeys_find(p, IKID, pub[8].pkid, &k) == 1);
	prekeys_stock(p, IKID, &st);
	CHECK(st.one_time == PREKEYS_BATCH - 2 && st.erased == 2 &&
	    st.used == 0);
	prekeys_close(p);
	/* A new signed prekey retires the old one, erased after grace. */
	p = reopen(1);
	CHECK(prekeys_generate(p, IKID, JWE_FS_SIGNED, 1, 5000, got,
	    NULL) == 0);
	CHECK(prekeys_sweep(p, 5000 + 99, 100) == 0);
	CHECK(prekeys_find(p, IKID, sp.pkid, &k) == 0);
	CHECK(prekeys_sweep(p, 5000 + 100, 100) == 1);
	/* Its tombstone: a message to it is "used and erased". */
	CHECK(prekeys_find(p, IKID, sp.pkid, &k) == 1);
	CHECK(prekeys_find(p, OTHER, sp.pkid, &k) == -1);
	CHECK(prekeys_find(p, IKID, got[0].pkid, &k) == 0);
	prekeys_close(p);	/* not saved: the file keeps both */
	wipe(&k, sizeof(k));
}

/* A signed prekey replaced before it was published is never published
 * (not even with a clock at the epoch, where 0 means current), and its
 * erasure leaves a tombstone in the file. */
static void
signed_retired(void)
{
	struct prekey_public a, b, got[4];
	struct prekeys_stock st;
	struct jwe_prekey k;
	struct prekeys *p;

	unlink(path);
	p = reopen(1);
	CHECK(prekeys_generate(p, IKID, JWE_FS_SIGNED, 1, 0, &a, NULL) == 0);
	CHECK(prekeys_generate(p, IKID, JWE_FS_SIGNED, 1, 0, &b, NULL) == 0);
	CHECK(prekeys_unpublished(p, IKID, got, 4) == 1 &&
	    strcmp(got[0].pkid, b.pkid) == 0);
	prekeys_stock(p, IKID, &st);
	CHECK(st.has_signed && strcmp(st.signed_pkid, b.pkid) == 0);
	/* At a later time as well. */
	CHECK(prekeys_generate(p, IKID, JWE_FS_SIGNED, 1, 7000, &a,
	    NULL) == 0);
	CHECK(prekeys_unpublished(p, IKID, got, 4) == 1 &&
	    strcmp(got[0].pkid, a.pkid) == 0);
	/* b, retired at 7000, erased at 7000 + the grace. */
	CHECK(prekeys_sweep(p, 7099, 100) == 1);	/* the one of 0 */
	CHECK(prekeys_find(p, IKID, b.pkid, &k) == 0);
	CHECK(prekeys_sweep(p, 7100, 100) == 1);
	CHECK(prekeys_save(p, NULL) == 0);
	prekeys_close(p);
	p = reopen(0);
	CHECK(prekeys_find(p, IKID, b.pkid, &k) == 1);
	CHECK(prekeys_find(p, IKID, a.pkid, &k) == 0);
	prekeys_stock(p, IKID, &st);
	CHECK(st.erased == 2 && st.has_signed);
	prekeys_close(p);
	unlink(path);
	wipe(&k, sizeof(k));
}

static void
refusals(void)
{
	static const char *const bad[] = {
		"{\"version\":2,\"identities\":{}}",
		"{\"version\":1}",
		"{\"version\":1,\"identities\":{\"" IKID "\":{\"x\":1}}}",
		/* A private key whose public key is not "x". */
		"{\"version\":1,\"identities\":{\"" IKID "\":{\"one_time\":"
		    "[{\"pkid\":\"" IKID "\",\"x\":\"" ZERO43 "\","
		    "\"d\":\"" ZERO43 "\",\"created\":1,"
		    "\"published\":false,\"used_at\":0,"
		    "\"erase_at\":0}]}}}",
		"not json",
	};
	struct prekeys *p = NULL;
	struct report r = { 0 };
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		chmod(path, 0600);
		report_clear(&r);
		CHECKF(prekeys_open(home, 0, &p, &r) == E2E_EX_CONFIG,
		    "accepted %s", bad[i]);
	}
	/* Loose modes (C3): refused before being read. */
	f = fopen(path, "w");
	fputs("{\"version\":1,\"identities\":{}}", f);
	fclose(f);
	chmod(path, 0640);
	report_clear(&r);
	CHECK(prekeys_open(home, 0, &p, &r) == E2E_EX_CONFIG);
	CHECK(strstr(report_message(&r), "only you can read") != NULL);
	chmod(path, 0600);
	report_clear(&r);
	CHECK(prekeys_open(home, 0, &p, &r) == 0);
	prekeys_close(p);
	unlink(path);
}

static void
records(void)
{
	struct prekey_public pk;
	struct prekey_record r;
	uint8_t priv[X25519_LEN];
	struct report rep = { 0 };
	json_t *j;
	char *s;

	memset(&pk, 0, sizeof(pk));
	memcpy(pk.ikid, IKID, KID_SIZE);
	pk.kind = JWE_FS_SIGNED;
	CHECK(x25519_generate(priv, pk.x, NULL) == 0);
	CHECK(x25519_pkid(pk.x, pk.pkid, NULL) == 0);
	j = prekeys_record_json("bob", &pk);
	s = jsonio_dump(j);
	json_decref(j);
	CHECK(s != NULL && prekeys_record_read(s, strlen(s), &r,
	    &rep) == 0);
	CHECK(strcmp(r.name, "bob") == 0 && r.pk.kind == JWE_FS_SIGNED &&
	    strcmp(r.pk.pkid, pk.pkid) == 0 && memcmp(r.pk.x, pk.x,
	    X25519_LEN) == 0 && strcmp(r.pk.ikid, IKID) == 0);
	free(s);
	s = "{\"name\":\"bob\",\"kid\":\"" IKID "\",\"kind\":\"signed\","
	    "\"prekey\":{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":"
	    "\"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo\"},\"pkid\":\""
	    IKID "\"}";
	CHECK(prekeys_record_read(s, strlen(s), &r, &rep) ==
	    E2E_EX_DATAERR);
	CHECK(strstr(report_message(&rep), "thumbprint") != NULL);
}

int
main(void)
{
	if (crypto_init(NULL) != 0)
		return 2;
	harness_tmpdir("prekeys", home, sizeof(home));
	snprintf(path, sizeof(path), "%s/prekeys.json", home);
	RUN(life_cycle);
	RUN(signed_retired);
	RUN(refusals);
	RUN(records);
	harness_rmtree(home);
	return harness_end();
}
