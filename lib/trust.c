/* trust.c - keyring and replay checks of a stream (see trust.h). */
#include "trust.h"
#include "err.h"
#include "home.h"
#include "keyring.h"
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct trust {
	char home[HOME_PATH_MAX];
	struct keyring *k;
	struct replay *r;
	const char *from;	/* of the record being opened */
	EVP_PKEY *key;		/* the signer's key handed out, freed later */
};

int
trust_open(struct trust **out)
{
	struct trust *t;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		err_error("out of memory");
		return E2E_EX_SOFTWARE;
	}
	if ((rc = home_find(t->home, sizeof(t->home))) != 0 ||
	    (rc = home_create(t->home)) != 0 ||
	    (rc = keyring_open(t->home, 0, &t->k)) != 0 ||
	    (rc = replay_open(t->home, REPLAY_WINDOW_DEFAULT,
	    (int64_t)time(NULL), &t->r)) != 0) {
		trust_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* The signer's key, if it is pinned for the record's sender (and that
 * contact's key has not changed). */
static EVP_PKEY *
signer_key(void *arg, const char *kid)
{
	struct trust *t = arg;
	char why[64];

	EVP_PKEY_free(t->key);
	t->key = NULL;
	err_capture_begin(why, sizeof(why));
	if (keyring_usable(t->k, t->from) == 0)
		t->key = keyring_key_of(t->k, t->from, kid);
	err_capture_end();
	return t->key;
}

void
trust_prepare(struct trust *t, const char *from, struct open_opts *o)
{
	t->from = from;
	o->signer_key = signer_key;
	o->signer_arg = t;
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

int
trust_judge(struct trust *t, const char *from, const char *msg_id,
    const struct message *m, int64_t now, char *warning, size_t wsize,
    char *why, size_t why_size)
{
	struct keyring_contact *c = keyring_find(t->k, from);

	warning[0] = why[0] = '\0';
	if (m->format == MESSAGE_SEED && c != NULL && c->signed_seen) {
		snprintf(why, why_size, "a seed-format message from %s, who "
		    "sends signed messages: a possible downgrade; not shown",
		    from);
		return E2E_EX_DATAERR;
	}
	/* A message id the cache cannot keep could be replayed at will:
	 * refused before anything is shown (e2e-encrypt's are base64url). */
	if (m->is_signed && !replay_valid_jti(m->jti)) {
		snprintf(why, why_size, "its message id (jti) is not printable "
		    "ASCII of 1 to %d characters: it cannot be checked for "
		    "replays", REPLAY_JTI_MAX);
		return E2E_EX_DATAERR;
	}
	if (m->is_signed) {
		switch (replay_check(t->r, from, m->jti, m->iat, msg_id,
		    now)) {
		case REPLAY_SEEN:
			snprintf(why, why_size, "a second copy of message "
			    "%.64s, shown before: dropped (a replay?)", m->jti);
			return E2E_EX_DATAERR;
		case REPLAY_TOO_OLD:
			snprintf(why, why_size, "signed more than %d days ago: "
			    "it cannot be told from a replay; dropped",
			    REPLAY_WINDOW_DEFAULT / 86400);
			return E2E_EX_DATAERR;
		case REPLAY_FUTURE:
			snprintf(why, why_size, "signed in the future (check "
			    "the clocks); dropped");
			return E2E_EX_DATAERR;
		default:
			break;
		}
	}
	if (!m->verified)
		unverified_why(t, from, m, warning, wsize);
	return 0;
}

int
trust_shown(struct trust *t, const char *from, const char *msg_id,
    const struct message *m)
{
	struct keyring *k;
	struct keyring_contact *c;
	int rc = 0;

	if (m->is_signed &&
	    (rc = replay_record(t->r, from, m->jti, m->iat, msg_id)) != 0)
		return rc;
	/* The first verified signed JWE of a contact: remembered, so the
	 * seed format is refused from them from now on. */
	c = keyring_find(t->k, from);
	if (m->verified && m->format == MESSAGE_JWE && c != NULL &&
	    !c->signed_seen) {
		c->signed_seen = 1;
		if ((rc = keyring_open(t->home, 1, &k)) != 0)
			return rc;
		keyring_mark_signed(k, from);
		rc = keyring_save(k);
		keyring_close(k);
	}
	return rc;
}

void
trust_close(struct trust *t)
{
	if (t == NULL)
		return;
	EVP_PKEY_free(t->key);
	keyring_close(t->k);
	replay_close(t->r);
	free(t);
}
