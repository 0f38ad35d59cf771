/*
 * phases.c - where a short-lived e2e-chat process spends its time.
 *
 * Runs, once, the steps a tool takes after main() starts, each timed with
 * CLOCK_MONOTONIC, and prints one "name<TAB>nanoseconds" line per step.
 * bench/run.sh runs it as many separate processes (every first-use cost
 * is per process, so it must be a fresh process each time) and prints
 * the medians. Not a test: it exits non-zero only when a step fails.
 *
 *   phases KEYDIR WRAPPED   KEYDIR holds bob, bob.pub and alice (the
 *                           signer of e2e-encrypt -s; tests/vectors/keys);
 *                           WRAPPED is a 32-byte key RSA-OAEP-256-wrapped
 *                           for bob.pub (made outside, so that no RSA
 *                           operation runs here before the timed ones)
 *   phases -n               returns at once: exec plus loading the
 *                           libraries, timed from outside (hyperfine)
 *   phases -w OUT LABEL CMD [ARG...]
 *                           runs CMD and appends "LABEL<TAB>wall s<TAB>
 *                           CPU s (user + system)<TAB>peak RSS KiB" to
 *                           OUT: one measured run of the 64 MiB rounds
 *   phases -t MS            what one core does: AES-256-CBC encryption,
 *                           its decryption and SHA-512 over 16 KiB
 *                           blocks, each for MS milliseconds of wall
 *                           time, printed as "NAME<TAB>bytes per second"
 *                           (openssl speed's figures, in a fraction of
 *                           its time, so that each round has its own)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/cli.h"
#include "base/err.h"
#include "format/crypto.h"
#include "format/jwe.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "format/message.h"
#include "format/rsa.h"

#define MSG_LEN 1024
#define BLOCK 16384	/* openssl speed -bytes 16384, as the tools' pieces */

static struct timespec t0;

static void
lap_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
}

/* Prints the time since lap_start() under name and starts a new lap. */
static void
lap(const char *name)
{
	struct timespec t1;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
	    (t1.tv_nsec - t0.tv_nsec);
	printf("%s\t%lld\n", name, ns);
	clock_gettime(CLOCK_MONOTONIC, &t0);
}

static int
fail(const char *what)
{
	fprintf(stderr, "phases: %s failed\n", what);
	return 1;
}

static double
seconds_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* Runs argv[0] (its output to /dev/null: the measured commands write
 * with -o) and appends label, its wall time, its CPU time (user +
 * system, every thread) and its peak RSS to out. Returns the child's
 * exit status; its stderr stays, to say why it failed. */
static int
measured_run(const char *out, const char *label, char **argv)
{
	struct timespec t;
	struct rusage ru;
	double wall;
	pid_t pid;
	FILE *f;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if ((pid = fork()) == -1)
		return fail("fork");
	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) == -1)
		return fail("wait4");
	wall = seconds_since(&t);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "phases: %s failed\n", argv[0]);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	if ((f = fopen(out, "a")) == NULL)
		return fail(out);
	fprintf(f, "%s\t%.6f\t%.6f\t%ld\n", label, wall,
	    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	    ru.ru_maxrss);
	return fclose(f) == 0 ? 0 : fail(out);
}

/* Bytes per second of one core doing kind (0: AES-256-CBC encryption,
 * 1: its decryption, 2: SHA-512) over the same 16 KiB block again and
 * again for ms milliseconds, as openssl speed -evp does (the block
 * stays in the cache: the speed of the algorithm, not of the memory).
 * Wall time, as the tools are measured in the same round: a core lost
 * to another job slows both. Returns -1 when a call fails. */
static double
one_core(int kind, long ms)
{
	static unsigned char blk[BLOCK];
	static const unsigned char key[32], iv[16];
	const EVP_CIPHER *c = crypto_cipher("AES-256-CBC", NULL);
	const EVP_MD *md = crypto_md("SHA512", NULL);
	EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	unsigned char dg[EVP_MAX_MD_SIZE];
	struct timespec t;
	double s = 0, bytes = 0, rate = -1;
	int outl, i, ok = 1;

	if (c == NULL || md == NULL || cc == NULL || mc == NULL ||
	    (kind < 2 && (EVP_CipherInit_ex2(cc, c, key, iv, kind == 0,
	    NULL) != 1 || EVP_CIPHER_CTX_set_padding(cc, 0) != 1)) ||
	    (kind == 2 && EVP_DigestInit_ex2(mc, md, NULL) != 1))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t);
	/* The clock read every 16 blocks: its cost stays out of sight. */
	while (ok && s * 1e3 < (double)ms) {
		for (i = 0; ok && i < 16; i++)
			ok = kind < 2 ? EVP_CipherUpdate(cc, blk, &outl, blk,
			    BLOCK) == 1 : EVP_DigestUpdate(mc, blk,
			    BLOCK) == 1;
		bytes += 16.0 * BLOCK;
		s = seconds_since(&t);
	}
	if (ok && (kind < 2 || EVP_DigestFinal_ex(mc, dg, NULL) == 1))
		rate = bytes / s;
out:
	EVP_CIPHER_CTX_free(cc);
	EVP_MD_CTX_free(mc);
	return rate;
}

/* phases -t MS: the three speeds the one-core limit is made of. */
static int
speeds(const char *arg)
{
	static const char *const names[] = { "aes_enc", "aes_dec", "sha512" };
	char *end;
	long ms = strtol(arg, &end, 10);
	double v;
	int k;

	if (*end != '\0' || ms < 1 || ms > 10000)
		return fail("-t MS (1 to 10000)");
	if (crypto_init(NULL) != 0)
		return fail("crypto_init");
	for (k = 0; k < 3; k++) {
		/* A few blocks first, untimed: the fetch, the first pages. */
		if (one_core(k, 1) < 0 || (v = one_core(k, ms)) < 0)
			return fail(names[k]);
		printf("%s\t%.0f\n", names[k], v);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct passphrase_src ps = { NULL, NULL };
	char path[4096], kid[KID_SIZE], pubkid[KID_SIZE];
	uint8_t wrapped[RSA_MAX_BYTES], cek[RSA_MAX_BYTES], rnd[32];
	uint8_t msg[MSG_LEN], sig[RSA_MAX_BYTES];
	struct buf env = BUF_INIT, in = BUF_INIT;
	struct jwe_recipient r;
	struct seal_opts so;
	struct open_opts oo;
	struct message m;
	struct sink sink;
	EVP_PKEY *priv = NULL;
	size_t wlen, cek_len, sig_len;
	FILE *f;

	if (argc == 2 && strcmp(argv[1], "-n") == 0)
		return 0;
	if (argc >= 5 && strcmp(argv[1], "-w") == 0)
		return measured_run(argv[2], argv[3], argv + 4);
	if (argc == 3 && strcmp(argv[1], "-t") == 0)
		return speeds(argv[2]);
	if (argc != 3) {
		fprintf(stderr, "usage: phases KEYDIR WRAPPED | -n | "
		    "-w OUT LABEL CMD [ARG...] | -t MS\n");
		return 64;
	}
	/* Untimed set-up: plain stdio, nothing from libcrypto. */
	if ((f = fopen(argv[2], "rb")) == NULL)
		return fail(argv[2]);
	wlen = fread(wrapped, 1, sizeof(wrapped), f);
	fclose(f);
	memset(msg, 'm', sizeof(msg));
	memset(&r, 0, sizeof(r));

	lap_start();
	cli_start(argv[0]);
	lap("cli_start");
	if (crypto_init(NULL) != 0)
		return fail("crypto_init");
	lap("crypto_init");
	if (crypto_md("SHA256", NULL) == NULL)
		return fail("fetch");
	lap("first_fetch");
	/* Each kind of algorithm has its own table, built on its first
	 * fetch: the cipher and MAC e2e-decrypt needs, timed apart. */
	if (crypto_cipher("AES-256-CBC", NULL) == NULL)
		return fail("cipher fetch");
	lap("fetch_cipher");
	if (crypto_mac("HMAC", NULL) == NULL)
		return fail("mac fetch");
	lap("fetch_mac");
	if (crypto_random(rnd, sizeof(rnd), NULL) != 0)
		return fail("random");
	lap("first_random");
	snprintf(path, sizeof(path), "%s/bob", argv[1]);
	lap_start();
	if (keyfile_load_private(path, &ps, &priv, NULL) != 0)
		return fail("keyfile_load_private");
	lap("load_private");
	if (jwk_thumbprint(priv, kid, NULL) != 0)
		return fail("jwk_thumbprint");
	lap("thumbprint_private");
	if (rsa_oaep_decrypt(priv, wrapped, wlen, cek, sizeof(cek),
	    &cek_len) != 0 || cek_len != 32)
		return fail("first rsa_oaep_decrypt");
	lap("rsa_private_first");
	if (rsa_oaep_decrypt(priv, wrapped, wlen, cek, sizeof(cek),
	    &cek_len) != 0 || cek_len != 32)
		return fail("second rsa_oaep_decrypt");
	lap("rsa_private_warm");
	snprintf(path, sizeof(path), "%s/bob.pub", argv[1]);
	lap_start();
	if (keyfile_load_public(path, &r.pub, NULL) != 0)
		return fail("keyfile_load_public");
	lap("load_public");
	if (jwk_thumbprint(r.pub, pubkid, NULL) != 0)
		return fail("jwk_thumbprint");
	lap("thumbprint_public");
	memset(&so, 0, sizeof(so));
	so.enc = jwe_enc_by_name("A256CBC-HS512");
	so.r = &r;
	so.nr = 1;
	memcpy(r.kid, pubkid, sizeof(r.kid));
	sink = sink_buf(&env);
	if (so.enc == NULL || message_seal(&so, msg, sizeof(msg), &sink,
	    NULL) != 0)
		return fail("message_seal");
	lap("message_seal_1k");
	/* Not timed: message_open decodes its input in place. */
	if (buf_append(&in, env.p, env.len) != 0)
		return fail("copy");
	lap_start();
	memset(&oo, 0, sizeof(oo));
	oo.key = priv;
	oo.kid = kid;
	if (message_open(&oo, &in, &m, NULL) != 0 || m.pt_len != sizeof(msg) ||
	    memcmp(m.pt, msg, sizeof(msg)) != 0)
		return fail("message_open");
	lap("message_open_1k");
	/*
	 * What e2e-encrypt -s adds, the way the tool signs: the signer's
	 * key, its thumbprint, and message_seal with that key as signer
	 * (the PS256 JWS streamed into the JWE, jws.c), beside the same seal
	 * unsigned again in this state (warm). The first signed seal pays
	 * the key's first RSA private operation (its blinding and Montgomery
	 * set-up); the second shows them paid once. Then the floor: a warm
	 * PS256 signature, one RSA private operation.
	 */
	EVP_PKEY_free(priv);
	priv = NULL;
	snprintf(path, sizeof(path), "%s/alice", argv[1]);
	lap_start();
	if (keyfile_load_private(path, &ps, &priv, NULL) != 0)
		return fail("keyfile_load_private alice");
	lap("load_signer");
	if (jwk_thumbprint(priv, kid, NULL) != 0)
		return fail("jwk_thumbprint alice");
	lap("thumbprint_signer");
	buf_clear(&env);
	if (message_seal(&so, msg, sizeof(msg), &sink, NULL) != 0)
		return fail("message_seal again");
	lap("seal_unsigned_warm");
	so.signer = priv;
	so.signer_kid = kid;
	buf_clear(&env);
	if (message_seal(&so, msg, sizeof(msg), &sink, NULL) != 0)
		return fail("signed message_seal");
	lap("seal_signed_first");
	buf_clear(&env);
	if (message_seal(&so, msg, sizeof(msg), &sink, NULL) != 0)
		return fail("second signed message_seal");
	lap("seal_signed_warm");
	if (rsa_pss_sign(priv, msg, sizeof(msg), sig, &sig_len, NULL) != 0)
		return fail("rsa_pss_sign");
	lap("pss_sign_warm");
	message_free(&m);
	buf_free(&in);
	buf_free(&env);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(r.pub);
	lap_start();
	/* What every tool runs at exit (libcrypto's atexit handler). */
	OPENSSL_cleanup();
	lap("openssl_cleanup");
	return fflush(stdout) == 0 ? 0 : 1;
}
