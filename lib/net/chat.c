/* chat.c - e2e-chat's conversation (see chat.h). */
#include "net/chat.h"
#include "base/cli.h"
#include "base/err.h"
#include "base/home.h"
#include "base/term.h"
#include "format/message.h"
#include "net/directory.h"
#include "net/prekeydir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
chat_keys_unchanged(const struct chat_keys *k, struct report *rep)
{
	struct contact now;
	struct report why = { 0 };
	size_t i;
	int rc, same;

	memset(&now, 0, sizeof(now));
	/* The keyring only: no directory, no network, nothing printed. */
	rc = contact_resolve(k->peer.name, CONTACT_BY_NAME, &now, &why);
	same = rc == 0 && now.n == k->peer.n;
	for (i = 0; same && i < now.n; i++)
		same = strcmp(now.kid[i], k->peer.kid[i]) == 0;
	contact_free(&now);
	if (same)
		return 0;
	report_error(rep, E2E_EX_DATAERR, "%s's keys are no longer those this "
	    "chat started with%s%s: NOT sending", k->peer.name,
	    rc != 0 ? ": " : "", rc != 0 ? report_message(&why) : "");
	report_hint(rep, "compare the safety number with %s (e2e-keys show "
	    "%s), accept the new key if it is theirs, then start the chat "
	    "again", k->peer.name, k->peer.name);
	return E2E_EX_DATAERR;
}

/*
 * Forward secrecy, as e2e-encrypt -r NAME: one prekey of each of name's
 * pinned keys claimed, its proof checked (prekeydir_claim), set in the
 * recipient of its key. A refused proof is 65, loudly; a claim that
 * cannot be made (the server out of reach) leaves RSA-OAEP-256.
 */
static int
claim_prekeys(struct client *c, const char *name, struct jwe_recipient *r,
    size_t n, struct report *rep)
{
	struct prekey_public pks[KEYRING_KEYS_MAX];
	struct report quiet = { 0 };
	struct keyring *kr = NULL;
	json_t *records = NULL;
	size_t npk = 0, so, i, j;
	int rc;

	if ((rc = directory_keyring_open(c, 0, &kr, rep)) != 0)
		return rc;
	rc = prekeydir_claim(c, kr, name, &records, pks, &npk, &so, &quiet);
	keyring_close(kr);
	json_decref(records);
	if (rc == E2E_EX_DATAERR || rc == E2E_EX_PROTOCOL)
		return report_add(rep, &quiet);
	for (i = 0; rc == 0 && i < n; i++)
		for (j = 0; j < npk; j++)
			if (strcmp(r[i].kid, pks[j].ikid) == 0) {
				r[i].fs = 1;
				memcpy(r[i].prekey, pks[j].x, X25519_LEN);
				memcpy(r[i].pkid, pks[j].pkid, KID_SIZE);
			}
	return 0;
}

int
chat_seal(const struct chat_keys *k, struct client *c, const uint8_t *pt,
    size_t len, struct buf *env, int *fs, struct report *rep)
{
	struct jwe_recipient r[KEYRING_KEYS_MAX];
	const char *names[KEYRING_KEYS_MAX];
	struct seal_opts so;
	struct sink sink = sink_buf(env);
	size_t i;
	int rc;

	memset(&so, 0, sizeof(so));
	memset(r, 0, sizeof(r));
	for (i = 0; i < k->peer.n; i++) {
		r[i].pub = k->peer.pub[i];
		memcpy(r[i].kid, k->peer.kid[i], KID_SIZE);
		names[i] = k->peer.name;
	}
	*fs = 0;
	if (c != NULL && (rc = claim_prekeys(c, k->peer.name, r, k->peer.n,
	    rep)) != 0)
		return rc;
	for (i = 0, *fs = k->peer.n > 0; i < k->peer.n; i++)
		*fs &= r[i].fs;
	so.enc = jwe_enc_by_name("A256CBC-HS512");
	so.r = r;
	so.nr = k->peer.n;
	so.signer = k->sk;
	so.signer_kid = k->kid;
	so.sender_name = k->me;
	so.recipient_names = names;
	return message_seal(&so, pt, len, &sink, rep);
}

int
chat_file_wrap(const char *name, const uint8_t *data, size_t len,
    struct buf *pt, struct report *rep)
{
	const char *base = strrchr(name, '/');

	base = base != NULL ? base + 1 : name;
	if (buf_append(pt, CHAT_FILE_MAGIC, sizeof(CHAT_FILE_MAGIC)) != 0 ||
	    buf_append(pt, base, strlen(base) + 1) != 0 ||
	    buf_append(pt, data, len) != 0)
		return report_oom(rep);
	return 0;
}

int
chat_file_unwrap(const uint8_t *pt, size_t len, char *name, size_t size,
    const uint8_t **data, size_t *dlen)
{
	const size_t m = sizeof(CHAT_FILE_MAGIC);
	const uint8_t *nul, *p;
	size_t n = 0;

	if (size < 5 || len < m || memcmp(pt, CHAT_FILE_MAGIC, m) != 0 ||
	    (nul = memchr(pt + m, '\0', len - m)) == NULL)
		return 0;
	/* A name from a stranger: its last component, plain characters
	 * only, so that it cannot climb out of the folder, hide, or carry
	 * an escape sequence. */
	p = pt + m;
	for (const uint8_t *q = p; q < nul; q++)
		if (*q == '/')
			p = q + 1;
	while (p < nul && *p == '.')
		p++;
	for (; p < nul && n + 1 < size && n < CHAT_FILE_NAME_MAX; p++)
		name[n++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
		    *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		    *p == '-' || *p == '_' || *p == '+' ? *p : '_');
	name[n] = '\0';
	if (n == 0)
		memcpy(name, "file", 5);
	*data = nul + 1;
	*dlen = len - (size_t)(nul + 1 - pt);
	return 1;
}

/* name with "-i" before its extension (if any) into out. */
static int
numbered(const char *dir, const char *name, unsigned i, char *out,
    size_t size)
{
	const char *dot = strrchr(name, '.');
	int n;

	if (i == 0)
		n = snprintf(out, size, "%s/%s", dir, name);
	else if (dot != NULL && dot != name)
		n = snprintf(out, size, "%s/%.*s-%u%s", dir,
		    (int)(dot - name), name, i, dot);
	else
		n = snprintf(out, size, "%s/%s-%u", dir, name, i);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
chat_save_file(const char *dir, const char *name, const uint8_t *data,
    size_t len, char *path, size_t size, struct report *rep)
{
	unsigned i;
	ssize_t w;
	int fd = -1, rc;

	if ((rc = home_create(dir, rep)) != 0)
		return rc;
	for (i = 0; i < 1000 && fd < 0; i++) {
		if (numbered(dir, name, i, path, size) != 0)
			return report_error(rep, E2E_EX_CANTCREAT, "the "
			    "downloads folder's path is too long");
		/* O_EXCL: never over a file that is there, nor through a
		 * link someone put there. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return report_errno(rep, E2E_EX_CANTCREAT,
			    "cannot create %s", path);
	}
	if (fd < 0)
		return report_error(rep, E2E_EX_CANTCREAT, "%s: a thousand "
		    "files of that name already", name);
	while (len > 0) {
		w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = report_errno(rep, E2E_EX_IOERR, "cannot write %s",
			    path);
			goto out;
		}
		data += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0)
		rc = report_errno(rep, E2E_EX_IOERR, "cannot write %s", path);
out:
	if (close(fd) != 0 && rc == 0)
		rc = report_errno(rep, E2E_EX_IOERR, "cannot write %s", path);
	if (rc != 0)
		unlink(path);
	return rc;
}

size_t
chat_sort_page(const json_t *page, const char *me, const char *peer,
    char *after, const json_t **mine, size_t max, json_t *others)
{
	const json_t *m, *v;
	const char *from;
	size_t i, n = 0;

	json_array_foreach(page, i, m) {
		/* api_list checked each (api_message_valid): an id, names. */
		snprintf(after, ID_LEN + 1, "%s",
		    json_string_value(json_object_get(m, "id")));
		if (strcmp(json_string_value(json_object_get(m, "to")),
		    me) != 0)
			continue;
		from = json_string_value(json_object_get(m, "from"));
		if (strcmp(from, peer) == 0) {
			if (n < max)
				mine[n++] = m;
			continue;
		}
		v = json_object_get(others, from);
		json_object_set_new(others, from, json_integer(v != NULL ?
		    json_integer_value(v) + 1 : 1));
	}
	return n;
}

void
chat_others_text(const json_t *others, char *out, size_t size)
{
	const char *name;
	json_t *v;
	size_t n = 0;

	out[0] = '\0';
	json_object_foreach((json_t *)others, name, v)
		if (n < size)
			n += (size_t)snprintf(out + n, size - n, "%s%s (%lld)",
			    n > 0 ? ", " : "", name,
			    (long long)json_integer_value(v));
	if (n > 0 && n < size)
		snprintf(out + n, size - n, " wrote to you; read it with "
		    "e2e-recv");
}

void
chat_record(const json_t *m, struct record *r)
{
	const json_t *msg = json_object_get(m, "message");

	memset(r, 0, sizeof(*r));
	r->id = json_string_value(json_object_get(m, "id"));
	r->from = json_string_value(json_object_get(m, "from"));
	r->to = json_string_value(json_object_get(m, "to"));
	r->sent_at = json_integer_value(json_object_get(m, "sent_at"));
	r->envelope = (const uint8_t *)json_string_value(msg);
	r->envelope_len = json_string_length(msg);
}

int
chat_escape(const uint8_t *p, size_t len, struct buf *out)
{
	const uint8_t *nl;
	size_t n;

	while (len > 0 && p[len - 1] == '\n')
		len--;
	for (;;) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		/* Each byte escapes to at most 4 characters. */
		if (n > (SIZE_MAX - 2) / 4 || buf_reserve(out, 4 * n + 2) != 0)
			return E2E_EX_SOFTWARE;
		term_escape((const char *)p, n, (char *)out->p + out->len,
		    4 * n + 1);
		out->len += strlen((const char *)out->p + out->len);
		if (nl == NULL)
			break;
		out->p[out->len++] = '\n';
		p = nl + 1;
		len -= n + 1;
	}
	return buf_terminate(out) != 0 ? E2E_EX_SOFTWARE : 0;
}

int
chat_present(const struct message *m, const char *peer,
    const char *downloads, size_t max, struct buf *out, struct report *rep)
{
	struct report why = { 0 };
	char name[CHAT_FILE_NAME_MAX + 1], path[HOME_PATH_MAX + 64];
	char line[HOME_PATH_MAX + 2 * REPORT_TEXT];
	const uint8_t *data = m->pt;
	size_t dlen = m->pt_len;
	int is_file;

	is_file = chat_file_unwrap(m->pt, m->pt_len, name, sizeof(name), &data,
	    &dlen);
	if (!is_file && (!utf8_valid(m->pt, m->pt_len) ||
	    memchr(m->pt, '\0', m->pt_len) != NULL)) {
		/* Bytes that are no text: a file without a name. */
		snprintf(name, sizeof(name), "from-%s.bin", peer);
		is_file = 1;
	}
	if (!is_file)
		return chat_escape(m->pt, m->pt_len, out) != 0 ?
		    report_oom(rep) : 0;
	if (dlen > max)
		snprintf(line, sizeof(line), "[file %s, %zu bytes: larger than "
		    "--max-file, not saved]", name, dlen);
	else if (chat_save_file(downloads, name, data, dlen, path,
	    sizeof(path), &why) == 0)
		snprintf(line, sizeof(line), "[file %s, %zu bytes, saved as "
		    "%s]", name, dlen, path);
	else
		snprintf(line, sizeof(line), "[file %s, %zu bytes, NOT saved: "
		    "%s]", name, dlen, report_message(&why));
	return chat_escape((const uint8_t *)line, strlen(line), out) != 0 ?
	    report_oom(rep) : 0;
}

int
chat_safety(const struct chat_keys *k, char out[SAFETY_NUMBER_SIZE],
    struct report *rep)
{
	const char *mine[1] = { k->kid };
	const char *theirs[KEYRING_KEYS_MAX];
	size_t i;

	for (i = 0; i < k->peer.n; i++)
		theirs[i] = k->peer.kid[i];
	return safety_number(k->me, mine, 1, k->peer.name, theirs, k->peer.n,
	    out, rep);
}

int
chat_prekeys_open(struct client *c, struct prekeys **p, int64_t *grace,
    struct report *rep)
{
	char path[HOME_PATH_MAX];
	long long g;
	int rc;

	*p = NULL;
	*grace = PREKEYS_GRACE_DEFAULT;
	if (c->cfg.fs_grace != NULL) {
		if (cli_parse_duration("fs_grace (config file)",
		    c->cfg.fs_grace, CHAT_FS_GRACE_MAX, &g, rep) != 0)
			return E2E_EX_CONFIG;
		*grace = g;
	}
	/* As e2e-recv: refused here, not dropped by the quiet top-up. */
	if (prekeydir_wanted(c, rep) < 0)
		return E2E_EX_CONFIG;
	/* No store (no prekeys made here): RSA entries only. */
	if ((rc = home_file(c->home, "prekeys.json", path, sizeof(path),
	    rep)) != 0 || access(path, F_OK) != 0)
		return rc;
	if ((rc = prekeys_sweep_file(c->home, client_now(), *grace,
	    rep)) != 0)
		return rc;
	return prekeys_open(c->home, 0, p, rep);
}
