/*
 * What e2e-decrypt's stream mode decides beyond the cryptography
 * (lib/keys/trust.c), given fabricated messages (struct message filled
 * here as message_open would, the signer looked up through the callback
 * trust_prepare installs) and a keyring written by hand: the verified
 * rule (FORMAT.md section 9.2) and each warning that says why a message
 * is not verified; the drops (a replayed or malformed jti, a signature
 * too old or from the future, a seed message from a contact who signs);
 * and what trust_shown remembers across runs.
 *
 * Runs from the project root (it reads tests/vectors/keys).
 */
#include "harness.h"
#include "keys_fixture.h"

#include <time.h>

#include "base/err.h"
#include "format/crypto.h"
#include "format/message.h"
#include "keys/replay.h"
#include "keys/trust.h"

/* Shaped as a key id, pinned for no one. */
#define KID_NOBODY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static char dir[256], home[320];
static int64_t now;

static const char *const ring[] = {
	"bob=bob.pub",
	"carol=carol.pub|pkcs1.pub",	/* her key changed */
	"dave=protected.pub",		/* one key under two names */
	"erin=protected.pub",
	"mallory=alice.pub",		/* my own key under a contact's */
	NULL
};

/* A message as message_open leaves it: signed by kid (NULL: unsigned),
 * its names signed when sub is set (aud: the recipients' names, comma-
 * separated, "" for a key file; for_me: the one given with my key). */
static void
fabricate(struct message *m, enum message_format format, const char *kid,
    const char *sub, const char *aud, const char *for_me, const char *jti,
    int64_t iat)
{
	char names[256], *p, *save = NULL;

	memset(m, 0, sizeof(*m));
	m->format = format;
	if (kid == NULL)
		return;
	m->is_signed = 1;
	snprintf(m->signer_kid, sizeof(m->signer_kid), "%s", kid);
	snprintf(m->jti, sizeof(m->jti), "%s", jti);
	m->iat = iat;
	if (sub == NULL)
		return;
	m->named = 1;
	snprintf(m->sub, sizeof(m->sub), "%s", sub);
	snprintf(m->name_for_me, sizeof(m->name_for_me), "%s", for_me);
	snprintf(names, sizeof(names), "%s", aud);
	for (p = strtok_r(names, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (strcmp(p, "-") == 0)
			p = "";
		buf_append(&m->all_names, p, strlen(p) + 1);
		if (m->aud_names[0] != '\0')
			strncat(m->aud_names, ", ", sizeof(m->aud_names) -
			    strlen(m->aud_names) - 1);
		strncat(m->aud_names, p[0] ? p : "a key file",
		    sizeof(m->aud_names) - strlen(m->aud_names) - 1);
	}
}

/*
 * Opens m as e2e-decrypt does: without --verify (lookup), the signer's
 * key is asked of the callback trust_prepare installs, and a key found
 * verifies the message (message_open would have refused it otherwise);
 * with --verify, verified is as given. Then judged.
 */
static int
judge(struct trust *t, const char *from, const char *msg_id,
    struct message *m, int lookup, int verified, char *warning, char *why)
{
	struct report rep = { 0 };
	struct open_opts o;
	struct trust_lookup l = { 0 };
	int rc;

	memset(&o, 0, sizeof(o));
	if (lookup) {
		trust_prepare(t, &l, from, &o);
		CHECK(o.signer_key != NULL && o.signer_arg == &l);
		m->verified = m->is_signed && o.signer_key(o.signer_arg,
		    m->signer_kid) != NULL;
	} else {
		m->verified = verified;
	}
	capture_begin();
	rc = trust_judge(t, lookup ? &l : NULL, from, msg_id, m, now, warning,
	    512, &rep);
	capture_end();
	trust_lookup_free(&l);
	/* The judge says nothing itself: the tool prints. */
	CHECKF(cap_len == 0, "%s", cap_text);
	/* A drop is one error line, its reason; a message shown, none. */
	CHECKF(rep.code == rc && rep.nlines == (rc != 0), "%d: %d lines, "
	    "code %d", rc, rep.nlines, rep.code);
	snprintf(why, 512, "%s", report_message(&rep));
	return rc;
}

static int
open_trust(const char *me, const char *own, struct trust **t)
{
	int rc;

	struct report rep = { 0 };

	capture_begin();
	rc = trust_open(me, own, t, &rep);
	err_print(&rep);
	capture_end();
	return rc;
}

/* The verified rule and its warnings. */
static void
verdicts(void)
{
	static const struct {
		const char *from;
		enum message_format format;
		const char *kid, *sub, *aud, *for_me;
		int lookup, verified;	/* verified: with --verify */
		int anon;		/* my own name unknown */
		int want;		/* verified after judging */
		const char *warning;	/* "" exactly none */
	} t[] = {
		/* Verified: a pinned key of the sender, its name, for me. */
		{ "bob", MESSAGE_JWE, KID_BOB, "bob", "alice", "alice", 1, 0,
		    0, 1, "" },
		{ "bob", MESSAGE_JWE, KID_BOB, "bob", "carol,alice", "alice",
		    1, 0, 0, 1, "" },
		/* With --verify (a file or a name): the same rule. */
		{ "bob", MESSAGE_JWE, KID_BOB, "bob", "alice", "alice", 0, 1,
		    0, 1, "" },
		/* Not signed. */
		{ "bob", MESSAGE_JWE, NULL, NULL, NULL, NULL, 1, 0, 0, 0,
		    "not signed: anyone could have written it" },
		{ "bob", MESSAGE_SEED, NULL, NULL, NULL, NULL, 1, 0, 0, 0,
		    "the seed format authenticates no sender" },
		/* Names not signed (an older version): verified, said. */
		{ "bob", MESSAGE_JWE, KID_BOB, NULL, NULL, NULL, 1, 0, 0, 1,
		    "the sender's name is not signed (an older version wrote "
		    "the message): verified by its key only" },
		{ "bob", MESSAGE_JWE, KID_BOB, NULL, NULL, NULL, 1, 0, 1, 1,
		    "the sender's name is not signed" },
		/* A server lying about the sender: bob's key, from frank. */
		{ "frank", MESSAGE_JWE, KID_BOB, "bob", "alice", "alice", 1, 0,
		    0, 0, "signed with bob's key, not frank's: the server may "
		    "be lying about the sender" },
		{ "frank", MESSAGE_JWE, KID_BOB, NULL, NULL, NULL, 1, 0, 0, 0,
		    "signed with bob's key, not frank's: the server may be "
		    "lying about the sender" },
		/* Unverified (a --verify NAME of other keys), pinned for
		 * someone else. */
		{ "frank", MESSAGE_JWE, KID_BOB, "bob", "alice", "alice", 0, 0,
		    0, 0, "signed with bob's key, not frank's" },
		/* Forwarded (I2): bob signed for frank and me, frank
		 * delivers it. */
		{ "frank", MESSAGE_JWE, KID_BOB, "bob", "frank,alice", "alice",
		    1, 0, 0, 0, "forwarded: signed by bob for frank, alice; "
		    "delivered by frank" },
		{ "bob", MESSAGE_JWE, KID_BOB, "carol", "alice", "alice", 0, 1,
		    0, 0, "forwarded: signed by carol for alice; delivered by "
		    "bob" },
		/* bob's key naming another sender. */
		{ "bob", MESSAGE_JWE, KID_BOB, "carol", "alice", "alice", 1, 0,
		    0, 0, "signed with bob's key, but it names carol as its "
		    "sender (for alice)" },
		/* A key that changed: pinned for carol, who is refused. */
		{ "carol", MESSAGE_JWE, KID_CAROL, "carol", "alice", "alice", 1,
		    0, 0, 0, "the key of carol has changed (e2e-keys show "
		    "carol)" },
		{ "carol", MESSAGE_JWE, KID_PKCS1, "carol", "alice", "alice", 1,
		    0, 0, 0, "the key of carol has changed (e2e-keys show "
		    "carol)" },
		/* Signers pinned for no one. */
		{ "bob", MESSAGE_JWE, KID_NOBODY, "bob", "alice", "alice", 1, 0,
		    0, 0, "signed by key " KID_NOBODY ", which is not pinned "
		    "for bob" },
		{ "zed", MESSAGE_JWE, KID_NOBODY, "zed", "alice", "alice", 1, 0,
		    0, 0, "zed is not in your keyring (e2e-keys fetch zed)" },
		/* My own key pinned for a contact (an older keyring). */
		{ "mallory", MESSAGE_JWE, KID_ALICE, "mallory", "alice",
		    "alice", 1, 0, 0, 0, "signed by your own key " KID_ALICE
		    ", which your keyring pins for mallory: not verified "
		    "(e2e-keys forget mallory)" },
		/* One key for two people. */
		{ "dave", MESSAGE_JWE, KID_PROTECTED, "dave", "alice", "alice",
		    1, 0, 0, 0, "signed by key " KID_PROTECTED ", which your "
		    "keyring pins for both dave and erin: it cannot tell who "
		    "signed (e2e-keys forget the wrong one)" },
		/* For me? */
		{ "bob", MESSAGE_JWE, KID_BOB, "bob", "alice", "alice", 1, 0, 1,
		    0, "signed by bob for alice; your own name is unknown, so "
		    "it cannot be checked that it is for you (sign in, or set "
		    "name = NAME in the config file, or give --as NAME)" },
		{ "bob", MESSAGE_JWE, KID_BOB, "bob", "-", "", 1, 0, 0, 0,
		    "signed by bob for a key file: your key, but not your name "
		    "(alice), was given" },
		{ "bob", MESSAGE_JWE, KID_BOB, "bob", "zoe", "zoe", 1, 0, 0, 0,
		    "signed by bob for zoe, not for you (alice): your key was "
		    "given as zoe's" },
	};
	/* A run is in one mode: with --verify the signer is never looked
	 * up (trust_prepare is not called). */
	struct trust *me = NULL, *anon = NULL, *verify = NULL;
	char warning[512], why[512], jti[32];
	struct message m;
	size_t i;
	int rc;

	CHECK(open_trust("alice", KID_ALICE, &me) == 0 && me != NULL);
	CHECK(open_trust(NULL, KID_ALICE, &anon) == 0 && anon != NULL);
	CHECK(open_trust("alice", KID_ALICE, &verify) == 0 && verify != NULL);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(jti, sizeof(jti), "jti-%zu", i);
		fabricate(&m, t[i].format, t[i].kid, t[i].sub, t[i].aud,
		    t[i].for_me, jti, now - 10);
		rc = judge(!t[i].lookup ? verify : t[i].anon ? anon : me,
		    t[i].from, "01", &m, t[i].lookup, t[i].verified, warning,
		    why);
		CHECKF(rc == 0 && why[0] == '\0', "case %zu: %d %s", i, rc,
		    why);
		CHECKF(m.verified == t[i].want, "case %zu: verified %d", i,
		    m.verified);
		if (t[i].warning[0] == '\0')
			CHECKF(warning[0] == '\0', "case %zu: %s", i, warning);
		else
			CHECKF(strncmp(warning, t[i].warning,
			    strlen(t[i].warning)) == 0, "case %zu: %s", i,
			    warning);
		message_free(&m);
	}
	trust_close(me);
	trust_close(anon);
	trust_close(verify);
}

/* Dropped before anything is shown: jtis the cache cannot keep,
 * signatures outside the window. */
static void
drops(void)
{
	static const struct {
		const char *jti;
		int64_t iat;	/* from now */
		const char *why;	/* NULL: shown */
	} t[] = {
		{ "j", -10, NULL },
		{ "", -10, "its message id (jti) is not printable ASCII of 1 "
		    "to 128 characters: it cannot be checked for replays" },
		{ "a b", -10, "its message id (jti) is not printable ASCII" },
		{ "caf\xc3\xa9", -10, "its message id (jti) is not printable" },
		{ "tab\t", -10, "its message id (jti) is not printable" },
		{ "old", -REPLAY_WINDOW_DEFAULT + 60, NULL },
		{ "too-old", -REPLAY_WINDOW_DEFAULT - 60, "signed more than "
		    "30 days ago: it cannot be told from a replay; dropped" },
		{ "soon", REPLAY_FUTURE_MAX - 10, NULL },
		{ "too-soon", REPLAY_FUTURE_MAX + 10, "signed in the future "
		    "(check the clocks); dropped" },
	};
	char warning[512], why[512], long_jti[REPLAY_JTI_MAX + 1];
	struct trust *tr = NULL;
	struct message m;
	size_t i;
	int rc;

	CHECK(open_trust("alice", KID_ALICE, &tr) == 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fabricate(&m, MESSAGE_JWE, KID_BOB, "bob", "alice", "alice",
		    t[i].jti, now + t[i].iat);
		rc = judge(tr, "bob", "01", &m, 1, 0, warning, why);
		if (t[i].why == NULL)
			CHECKF(rc == 0 && m.verified, "%s: %d %s", t[i].jti,
			    rc, why);
		else
			CHECKF(rc == 65 && strncmp(why, t[i].why,
			    strlen(t[i].why)) == 0, "%s: %d %s", t[i].jti, rc,
			    why);
		message_free(&m);
	}
	/* The longest jti a message holds (message_open refuses longer
	 * ones). */
	memset(long_jti, 'j', sizeof(long_jti));
	long_jti[REPLAY_JTI_MAX] = '\0';
	fabricate(&m, MESSAGE_JWE, KID_BOB, NULL, NULL, NULL, long_jti,
	    now);
	CHECK(judge(tr, "bob", "01", &m, 1, 0, warning, why) == 0);
	/* Unsigned messages have no jti to check. */
	fabricate(&m, MESSAGE_JWE, NULL, NULL, NULL, NULL, "", 0);
	CHECK(judge(tr, "bob", "01", &m, 1, 0, warning, why) == 0);
	trust_close(tr);
}

/* What trust_shown remembers: the jti (a second copy in another message
 * is dropped, the same message read again is not), and that bob signs
 * (a seed message from him is then a downgrade), across runs. */
static void
remembered(void)
{
	struct report rep = { 0 };
	char warning[512], why[512], path[400], *text;
	struct trust *tr = NULL;
	struct message m;
	int rc;

	CHECK(open_trust("alice", KID_ALICE, &tr) == 0);
	/* Before bob's first verified JWE, his seed messages are shown. */
	fabricate(&m, MESSAGE_SEED, NULL, NULL, NULL, NULL, "", 0);
	CHECK(judge(tr, "bob", "00", &m, 1, 0, warning, why) == 0);
	CHECK(trust_shown(tr, "bob", "00", &m, NULL) == 0);
	fabricate(&m, MESSAGE_JWE, KID_BOB, "bob", "alice", "alice",
	    "once", now - 5);
	CHECK(judge(tr, "bob", "01", &m, 1, 0, warning, why) == 0 &&
	    m.verified);
	report_clear(&rep);
	capture_begin();
	rc = trust_shown(tr, "bob", "01", &m, &rep);
	capture_end();
	CHECK(rc == 0 && cap_len == 0 && !report_said(&rep));
	message_free(&m);
	/* The same jti again, in another message: dropped. */
	fabricate(&m, MESSAGE_JWE, KID_BOB, "bob", "alice", "alice",
	    "once", now - 5);
	rc = judge(tr, "bob", "02", &m, 1, 0, warning, why);
	CHECKF(rc == 65 && strcmp(why, "a second copy of message once, shown "
	    "before: dropped (a replay?)") == 0, "%d %s", rc, why);
	/* The same message read again (a saved inbox): shown. */
	CHECK(judge(tr, "bob", "01", &m, 1, 0, warning, why) == 0);
	/* Another sender's jti is another message. */
	message_free(&m);
	fabricate(&m, MESSAGE_JWE, KID_NOBODY, NULL, NULL, NULL, "once",
	    now - 5);
	CHECK(judge(tr, "zed", "03", &m, 1, 0, warning, why) == 0);
	/* A seed message from bob now: a possible downgrade. */
	fabricate(&m, MESSAGE_SEED, NULL, NULL, NULL, NULL, "", 0);
	rc = judge(tr, "bob", "04", &m, 1, 0, warning, why);
	CHECKF(rc == 65 && strcmp(why, "a seed-format message from bob, who "
	    "sends signed messages: a possible downgrade; not shown") == 0,
	    "%d %s", rc, why);
	/* From others, still shown. */
	CHECK(judge(tr, "carol", "05", &m, 1, 0, warning, why) == 0);
	trust_close(tr);

	/* On disk: the keyring marks bob, the replay log has the jti. */
	snprintf(path, sizeof(path), "%s/keyring.json", home);
	text = harness_read(path);
	CHECKF(strstr(text, "\"signed_seen\":true") != NULL, "%s", text);
	free(text);
	snprintf(path, sizeof(path), "%s/replay.log", home);
	text = harness_read(path);
	CHECKF(strstr(text, "bob once ") != NULL, "%s", text);
	free(text);
	/* And a new run knows both. */
	CHECK(open_trust("alice", KID_ALICE, &tr) == 0);
	fabricate(&m, MESSAGE_JWE, KID_BOB, "bob", "alice", "alice",
	    "once", now - 5);
	CHECK(judge(tr, "bob", "06", &m, 1, 0, warning, why) == 65);
	message_free(&m);
	fabricate(&m, MESSAGE_SEED, NULL, NULL, NULL, NULL, "", 0);
	CHECK(judge(tr, "bob", "07", &m, 1, 0, warning, why) == 65);
	/* What is not verified marks nobody. */
	fabricate(&m, MESSAGE_JWE, KID_NOBODY, "carol", "alice", "alice",
	    "c1", now - 5);
	CHECK(judge(tr, "carol", "08", &m, 1, 0, warning, why) == 0 &&
	    !m.verified);
	CHECK(trust_shown(tr, "carol", "08", &m, NULL) == 0);
	message_free(&m);
	fabricate(&m, MESSAGE_SEED, NULL, NULL, NULL, NULL, "", 0);
	CHECK(judge(tr, "carol", "09", &m, 1, 0, warning, why) == 0);
	trust_close(tr);
}

/* What trust_open cannot use. */
static void
open_refusals(void)
{
	char path[400];
	struct trust *tr = (struct trust *)1;

	snprintf(path, sizeof(path), "%s/keyring.json", home);
	put_str(path, "[]");
	CHECK(open_trust("alice", KID_ALICE, &tr) == 78 && tr == NULL);
	CHECK(strstr(cap_text, "is not a keyring of this version"));
	fixture_keyring(home, ring);
	snprintf(path, sizeof(path), "%s/replay.log", home);
	unlink(path);
	CHECK(mkdir(path, 0700) == 0);
	tr = (struct trust *)1;
	CHECK(open_trust("alice", KID_ALICE, &tr) == 73 && tr == NULL);
	rmdir(path);
	/* A home that is not a folder. */
	snprintf(path, sizeof(path), "%s/file", dir);
	put_str(path, "");
	setenv("E2E_HOME", path, 1);
	tr = (struct trust *)1;
	CHECK(open_trust("alice", KID_ALICE, &tr) == 73 && tr == NULL);
	/* No keyring at all: nobody pinned, nothing verified by lookup. */
	snprintf(path, sizeof(path), "%s/new-home", dir);
	setenv("E2E_HOME", path, 1);
	CHECK(open_trust("alice", KID_ALICE, &tr) == 0);
	trust_close(tr);
	trust_close(NULL);
	setenv("E2E_HOME", home, 1);
}

int
main(void)
{
	err_setprog("test_trust");
	if (crypto_init(NULL) != 0)
		return 2;
	now = (int64_t)time(NULL);
	harness_tmpdir("trust", dir, sizeof(dir));
	snprintf(home, sizeof(home), "%s/home", dir);
	if (mkdir(home, 0700) != 0)
		return 2;
	setenv("E2E_HOME", home, 1);
	fixture_keyring(home, ring);
	RUN(verdicts);
	RUN(drops);
	RUN(remembered);
	RUN(open_refusals);
	harness_rmtree(dir);
	return harness_end();
}
