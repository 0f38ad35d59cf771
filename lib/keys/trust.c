/* trust.c - keyring and replay checks of a stream (see trust.h). */
#include "keys/trust.h"
#include "base/err.h"
#include "base/home.h"
#include "base/names.h"
#include "keys/keyring.h"
#include "keys/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct trust {
	char home[HOME_PATH_MAX];
	struct keyring *k;
	struct replay *r;
	char me[NAME_LEN_MAX + 1];	/* my name, or "" when unknown */
	char own_kid[KID_SIZE];
};

int
trust_open(const char *me, const char *own_kid, struct trust **out,
    struct report *rep)
{
	struct trust *t;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	if (me != NULL)
		snprintf(t->me, sizeof(t->me), "%s", me);
	snprintf(t->own_kid, sizeof(t->own_kid), "%s", own_kid);
	if ((rc = home_find(t->home, sizeof(t->home), rep)) != 0 ||
	    (rc = home_create(t->home, rep)) != 0 ||
	    (rc = keyring_open(t->home, 0, &t->k, rep)) != 0 ||
	    (rc = replay_open(t->home, REPLAY_WINDOW_DEFAULT,
	    (int64_t)time(NULL), &t->r, rep)) != 0) {
		trust_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

/*
 * The signer's key: the one pinned for the record's sender (when that
 * contact's key has not changed), else one pinned for anyone else, so
 * that the signature is checked either way and trust_judge can say
 * whose it is (a forwarded message, a server lying about the sender).
 */
static EVP_PKEY *
signer_key(void *arg, const char *kid)
{
	struct trust_lookup *l = arg;
	struct keyring *k = l->t->k;
	const char *owner = NULL;

	trust_lookup_free(l);
	/* A changed key is the message's warning, not a line of its own. */
	if (keyring_usable(k, l->from, NULL) == 0 &&
	    (l->key = keyring_key_of(k, l->from, kid)) != NULL) {
		l->via = TRUST_VIA_FROM;
	} else if ((l->key = keyring_any_key(k, kid, &owner)) != NULL) {
		l->via = TRUST_VIA_OTHER;
		l->owner = owner;
	}
	return l->key;
}

void
trust_prepare(struct trust *t, struct trust_lookup *l, const char *from,
    struct open_opts *o)
{
	l->t = t;
	l->from = from;
	l->key = NULL;
	l->via = TRUST_VIA_NONE;
	l->owner = NULL;
	o->signer_key = signer_key;
	o->signer_arg = l;
}

void
trust_lookup_free(struct trust_lookup *l)
{
	EVP_PKEY_free(l->key);
	l->key = NULL;
	l->via = TRUST_VIA_NONE;
	l->owner = NULL;
}

static void
unverified_why(struct trust *t, const char *from, const struct message *m,
    char *warning, size_t wsize)
{
	struct keyring_contact *c = keyring_find(t->k, from);
	const char *owner = NULL;
	EVP_PKEY *other;

	if (!m->is_signed) {
		snprintf(warning, wsize, m->format == MESSAGE_SEED ?
		    "the seed format authenticates no sender" :
		    "not signed: anyone could have written it");
		return;
	}
	other = keyring_any_key(t->k, m->signer_kid, &owner);
	EVP_PKEY_free(other);
	if (owner != NULL && strcmp(owner, from) != 0)
		snprintf(warning, wsize, "signed with %s's key, not %s's: the "
		    "server may be lying about the sender", owner, from);
	else if (c == NULL || c->nkeys == 0)
		snprintf(warning, wsize, "%s is not in your keyring (e2e-keys "
		    "fetch %s)", from, from);
	else if (c->npending > 0)
		snprintf(warning, wsize, "the key of %s has changed (e2e-keys "
		    "show %s)", from, from);
	else
		snprintf(warning, wsize, "signed by key %s, which is not "
		    "pinned for %s", m->signer_kid, from);
}

/*
 * A message whose signature is valid under a pinned key (or the
 * --verify key): whether it is verified as from the record's sender, and
 * for me (FORMAT.md section 9.2). Returns 1 (verified; warning set when
 * its names are not signed) or 0 (not verified; warning says why).
 */
static int
still_verified(struct trust *t, enum trust_via via, const char *owner,
    const char *from, const struct message *m, char *warning, size_t wsize)
{
	const char *names[2] = { NULL, NULL };
	size_t n;

	if (via == TRUST_VIA_OTHER) {
		if (strcmp(owner, from) == 0)
			snprintf(warning, wsize, "the key of %s has changed "
			    "(e2e-keys show %s)", from, from);
		else if (m->named && strcmp(m->sub, owner) == 0 &&
		    message_names_include(m, from))
			snprintf(warning, wsize, "forwarded: signed by %s for "
			    "%s; delivered by %s", m->sub, m->aud_names, from);
		else
			snprintf(warning, wsize, "signed with %s's key, not "
			    "%s's: the server may be lying about the sender",
			    owner, from);
		return 0;
	}
	/* My own key pinned for a contact, or one key id for two people,
	 * proves nothing (a keyring written before pinning refused such
	 * pairs, issue 8). */
	if (strcmp(m->signer_kid, t->own_kid) == 0 &&
	    keyring_names_of(t->k, m->signer_kid, t->me[0] ? t->me : NULL,
	    names, 2) > 0) {
		snprintf(warning, wsize, "signed by your own key %s, which "
		    "your keyring pins for %s: not verified (e2e-keys forget "
		    "%s)", m->signer_kid, names[0], names[0]);
		return 0;
	}
	if ((n = keyring_names_of(t->k, m->signer_kid, NULL, names, 2)) >
	    1) {
		snprintf(warning, wsize, "signed by key %s, which your keyring "
		    "pins for both %s and %s: it cannot tell who signed "
		    "(e2e-keys forget the wrong one)", m->signer_kid,
		    names[0], names[1]);
		return 0;
	}
	if (!m->named) {
		snprintf(warning, wsize, "the sender's name is not signed (an "
		    "older version wrote the message): verified by its key "
		    "only");
		return 1;
	}
	/* The key is from's (or the --verify key): a name it signs that is
	 * not from's is only what from says, so never "signed by" it. */
	if (strcmp(m->sub, from) != 0 && via == TRUST_VIA_FROM) {
		snprintf(warning, wsize, "signed with %s's key, but it names %s "
		    "as its sender (for %s)", from, m->sub, m->aud_names);
		return 0;
	}
	if (strcmp(m->sub, from) != 0) {
		snprintf(warning, wsize, "forwarded: signed by %s for %s; "
		    "delivered by %s", m->sub, m->aud_names, from);
		return 0;
	}
	if (t->me[0] == '\0') {
		snprintf(warning, wsize, "signed by %s for %s; your own name is "
		    "unknown, so it cannot be checked that it is for you (sign "
		    "in, or set name = NAME in the config file, or give --as "
		    "NAME)", m->sub, m->aud_names);
		return 0;
	}
	if (m->name_for_me[0] == '\0') {
		snprintf(warning, wsize, "signed by %s for %s: your key, but "
		    "not your name (%s), was given", m->sub, m->aud_names,
		    t->me);
		return 0;
	}
	if (strcmp(m->name_for_me, t->me) != 0) {
		snprintf(warning, wsize, "signed by %s for %s, not for you "
		    "(%s): your key was given as %s's", m->sub, m->aud_names,
		    t->me, m->name_for_me);
		return 0;
	}
	return 1;
}

int
trust_judge(struct trust *t, const struct trust_lookup *l,
    const char *from, const char *msg_id, struct message *m, int64_t now,
    char *warning, size_t wsize, struct report *rep)
{
	struct keyring_contact *c = keyring_find(t->k, from);

	warning[0] = '\0';
	if (m->format == MESSAGE_SEED && c != NULL && c->signed_seen)
		return report_error(rep, E2E_EX_DATAERR, "a seed-format "
		    "message from %s, who sends signed messages: a possible "
		    "downgrade; not shown", from);
	/* A message id the cache cannot keep could be replayed at will:
	 * refused before anything is shown (e2e-encrypt's are base64url). */
	if (m->is_signed && !replay_valid_jti(m->jti))
		return report_error(rep, E2E_EX_DATAERR, "its message id (jti) "
		    "is not printable ASCII of 1 to %d characters: it cannot "
		    "be checked for replays", REPLAY_JTI_MAX);
	if (m->is_signed) {
		switch (replay_check(t->r, from, m->jti, m->iat, msg_id,
		    now)) {
		case REPLAY_SEEN:
			return report_error(rep, E2E_EX_DATAERR, "a second "
			    "copy of message %.64s, shown before: dropped (a "
			    "replay?)", m->jti);
		case REPLAY_TOO_OLD:
			return report_error(rep, E2E_EX_DATAERR, "signed more "
			    "than %d days ago: it cannot be told from a "
			    "replay; dropped", REPLAY_WINDOW_DEFAULT / 86400);
		case REPLAY_FUTURE:
			return report_error(rep, E2E_EX_DATAERR, "signed in "
			    "the future (check the clocks); dropped");
		default:
			break;
		}
	}
	if (!m->verified)
		unverified_why(t, from, m, warning, wsize);
	else if (!still_verified(t, l != NULL ? l->via : TRUST_VIA_NONE,
	    l != NULL ? l->owner : NULL, from, m, warning, wsize))
		m->verified = 0;
	return 0;
}

int
trust_shown(struct trust *t, const char *from, const char *msg_id,
    const struct message *m, struct report *rep)
{
	struct keyring *k;
	struct keyring_contact *c;
	int rc = 0;

	if (m->is_signed &&
	    (rc = replay_record(t->r, from, m->jti, m->iat, msg_id, rep)) != 0)
		return rc;
	/* The first verified signed JWE of a contact: remembered, so the
	 * seed format is refused from them from now on. */
	c = keyring_find(t->k, from);
	if (m->verified && m->format == MESSAGE_JWE && c != NULL &&
	    !c->signed_seen) {
		c->signed_seen = 1;
		if ((rc = keyring_open(t->home, 1, &k, rep)) != 0)
			return rc;
		keyring_mark_signed(k, from);
		rc = keyring_save(k, rep);
		keyring_close(k);
	}
	return rc;
}

void
trust_close(struct trust *t)
{
	if (t == NULL)
		return;
	keyring_close(t->k);
	replay_close(t->r);
	free(t);
}
