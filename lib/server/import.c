/* import.c - an original server's users and messages (see import.h). */
#include "server/import.h"
#include "base/jsonio.h"
#include "base/names.h"
#include "base/term.h"
#include "format/crypto.h"
#include "format/records.h"
#include "server/auth.h"
#include "server/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define USER_LINE_MAX ((size_t)64 << 10)
/* Records on their way to the writer at most: enough for its group
 * commits, bounded in memory. */
#define WINDOW_JOBS 512
#define WINDOW_BYTES ((size_t)64 << 20)
#define SHOWN_MAX 100		/* refusals printed per file */
#define KEY_MAX 128

enum outcome { O_IMPORTED = 1, O_ALREADY, O_REFUSED };

/* One file's import: records in flight and what became of them. */
struct batch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t jobs, bytes;
	unsigned long imported, already, refused;
	const char *path;
};

struct job {
	struct store_job sj;	/* first: the writer hands it back */
	struct batch *b;
	unsigned long long lineno;
	size_t bytes;
	enum outcome outcome;
	char why[200];
	char key[KEY_MAX];		/* the record's mark in meta */
	char account[KEY_MAX];		/* a user's: "from the original" */
	struct store_user user;
	struct store_message msg;
	char to_id[STORE_ID_LEN + 1];
};

static void refuse(struct batch *b, unsigned long long lineno, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
refuse(struct batch *b, unsigned long long lineno, const char *fmt, ...)
{
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&b->lock);
	if (++b->refused <= SHOWN_MAX)
		log_warn("%s line %llu: refused: %s", b->path, lineno, why);
	pthread_mutex_unlock(&b->lock);
}

/* A name as it may be shown (escaped, cut). */
static const char *
shown(const char *s, size_t len, char out[80])
{
	return term_escape(s, len, out, 80);
}

/* On the writer, once committed (or not): tally, and free the job. */
static void
job_done(struct store_job *sj, int result)
{
	struct job *j = (struct job *)(void *)sj;
	struct batch *b = j->b;

	if (result == STORE_OK) {
		j->outcome = O_IMPORTED;
	} else if (result != STORE_CONFLICT || j->outcome == 0) {
		j->outcome = O_REFUSED;
		snprintf(j->why, sizeof(j->why), "the database failed (see "
		    "above)");
	}
	if (j->outcome == O_REFUSED)
		refuse(b, j->lineno, "%s", j->why);
	pthread_mutex_lock(&b->lock);
	if (j->outcome == O_IMPORTED)
		b->imported++;
	else if (j->outcome == O_ALREADY)
		b->already++;
	b->jobs--;
	b->bytes -= j->bytes;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	free(j->msg.body);
	free(j);
}

/* Hands j to the writer, waiting while the window is full. */
static void
submit(struct store *s, struct batch *b, struct job *j)
{
	j->b = b;
	j->sj.done = job_done;
	pthread_mutex_lock(&b->lock);
	while (b->jobs > 0 && (b->jobs >= WINDOW_JOBS ||
	    b->bytes + j->bytes > WINDOW_BYTES))
		pthread_cond_wait(&b->cond, &b->lock);
	b->jobs++;
	b->bytes += j->bytes;
	pthread_mutex_unlock(&b->lock);
	store_submit(s, &j->sj);
}

static void
finish(struct batch *b)
{
	pthread_mutex_lock(&b->lock);
	while (b->jobs > 0)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

/*
 * The ObjectId of the record's "_id" as mongoexport writes it,
 * {"$oid": 24 hex digits}: its 12 bytes. Returns 1, or 0 when there is
 * none of that form.
 */
static int
object_id(const json_t *obj, uint8_t oid[12])
{
	const json_t *id = json_object_get(obj, "_id");
	const char *hex;
	size_t len, i;
	int hi, lo;

	if (!json_is_object(id) || json_object_size(id) != 1 ||
	    (hex = jsonio_str(id, "$oid", &len)) == NULL || len != 24)
		return 0;
	for (i = 0; i < 12; i++) {
		hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return 0;
		oid[i] = (uint8_t)(hi << 4 | lo);
	}
	return 1;
}

/* The ObjectId's time: its first 4 bytes, seconds. */
static int64_t
oid_time(const uint8_t oid[12])
{
	return (int64_t)oid[0] << 24 | oid[1] << 16 | oid[2] << 8 | oid[3];
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- users ---- */

static int
user_run(struct store *s, struct store_job *sj)
{
	struct job *j = (struct job *)(void *)sj;
	int rc;

	rc = s->be->meta_put_new(s, j->key, (const uint8_t *)j->user.id,
	    strlen(j->user.id));
	if (rc == STORE_CONFLICT) {
		j->outcome = O_ALREADY;
		return rc;
	}
	if (rc == STORE_OK &&
	    (rc = s->be->user_create(s, &j->user)) == STORE_CONFLICT) {
		j->outcome = O_REFUSED;
		snprintf(j->why, sizeof(j->why), "the name %s is taken here",
		    j->user.name);
		return rc;
	}
	if (rc == STORE_OK)
		rc = s->be->meta_put_new(s, j->account,
		    (const uint8_t *)j->user.name, strlen(j->user.name));
	return rc == STORE_CONFLICT ? STORE_ERROR : rc;
}

static void
user_line(struct store *s, struct batch *b, unsigned long long lineno,
    const json_t *obj)
{
	const char *name, *pw;
	char esc[80];
	uint8_t oid[12];
	struct job *j;
	size_t len;

	name = jsonio_str(obj, "name", &len);
	pw = jsonio_str(obj, "password", NULL);
	if (name == NULL || pw == NULL) {
		refuse(b, lineno, "\"name\" and \"password\" must be strings");
		return;
	}
	if (!name_valid(name, len)) {
		refuse(b, lineno, "the name \"%s\" is not valid here: 1 to %d "
		    "letters, digits, '.', '_' or '-', not only dots",
		    shown(name, len, esc), NAME_LEN_MAX);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		refuse(b, lineno, "out of memory");
		return;
	}
	j->lineno = lineno;
	j->sj.run = user_run;
	if (auth_original_hash(pw, j->user.hash) != 0) {
		refuse(b, lineno, "the password of %s is not a bcrypt hash "
		    "($2a$ or $2b$, cost 04 to 31)", name);
		free(j);
		return;
	}
	memcpy(j->user.name, name, len + 1);
	j->user.created_at = crypto_now();
	if (object_id(obj, oid)) {
		hex(oid, 12, j->key + snprintf(j->key, KEY_MAX, "import.user."));
		j->user.created_at = oid_time(oid);
	} else {
		snprintf(j->key, KEY_MAX, "import.user.name.%s", name);
	}
	if (store_new_id(j->user.id) != 0) {
		refuse(b, lineno, "no randomness for its id");
		free(j);
		return;
	}
	snprintf(j->account, KEY_MAX, "import.account.%s", j->user.id);
	submit(s, b, j);
}

/* ---- messages ---- */

static int
message_run(struct store *s, struct store_job *sj)
{
	struct job *j = (struct job *)(void *)sj;
	int rc;

	rc = s->be->meta_put_new(s, j->key, (const uint8_t *)j->msg.id,
	    STORE_ID_LEN);
	if (rc == STORE_CONFLICT) {
		j->outcome = O_ALREADY;
		return rc;
	}
	if (rc == STORE_OK && (rc = s->be->message_put(s, &j->msg,
	    j->to_id)) == STORE_CONFLICT) {
		j->outcome = O_REFUSED;
		snprintf(j->why, sizeof(j->why), "its id %s is taken",
		    j->msg.id);
	}
	return rc;
}

/* Is the account id one imported from the original? */
static int
imported_account(struct store *s, const char *id)
{
	struct buf v = BUF_INIT;
	char key[KEY_MAX];
	int rc;

	snprintf(key, sizeof(key), "import.account.%s", id);
	rc = s->be->meta_get(s, key, &v);
	buf_free(&v);
	return rc;
}

/* The message's id: as its ObjectId orders (48 bits of milliseconds,
 * then the ObjectId's other 8 bytes), or a new one. */
static int
message_id(const uint8_t *oid, char out[STORE_ID_LEN + 1])
{
	uint8_t b[17];
	uint64_t ms;
	int i;

	if (oid == NULL)
		return store_new_ordered_id(out);
	memset(b, 0, sizeof(b));
	ms = (uint64_t)oid_time(oid) * 1000;
	for (i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (40 - 8 * i));
	memcpy(b + 6, oid + 4, 8);
	store_id_encode(b, out);
	return 0;
}

static void
message_line(struct store *s, struct batch *b, size_t max,
    unsigned long long lineno, const json_t *obj)
{
	const char *to, *from, *text;
	size_t to_len, from_len, len;
	struct store_user u;
	uint8_t oid[12], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char esc[80], *canon;
	struct job *j;
	int has_oid, rc;

	to = jsonio_str(obj, "to", &to_len);
	from = jsonio_str(obj, "from", &from_len);
	text = jsonio_str(obj, "message", &len);
	if (to == NULL || from == NULL || text == NULL) {
		refuse(b, lineno, "\"to\", \"from\" and \"message\" must be "
		    "strings");
		return;
	}
	if (!name_valid(to, to_len) || !name_valid(from, from_len)) {
		refuse(b, lineno, "the %s \"%s\" is not a valid name here",
		    name_valid(to, to_len) ? "sender" : "recipient",
		    name_valid(to, to_len) ? shown(from, from_len, esc) :
		    shown(to, to_len, esc));
		return;
	}
	if (len == 0 || len > max) {
		refuse(b, lineno, "the message has %zu bytes; 1 to %zu "
		    "(--max-message) are taken", len, max);
		return;
	}
	switch (s->be->user_by_name(s, to, &u)) {
	case STORE_OK:
		break;
	case STORE_NOT_FOUND:
		refuse(b, lineno, "no account %s here: import the users first "
		    "(--import-users)", to);
		return;
	default:
		refuse(b, lineno, "the database failed (see above)");
		return;
	}
	if ((rc = imported_account(s, u.id)) != STORE_OK) {
		refuse(b, lineno, rc == STORE_NOT_FOUND ? "the account %s here "
		    "was not imported from the original server: not delivered "
		    "to it" : "the database failed for %s", to);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->msg.body = malloc(len + 1)) == NULL) {
		if (j != NULL)
			free(j);
		refuse(b, lineno, "out of memory");
		return;
	}
	j->lineno = lineno;
	j->sj.run = message_run;
	j->bytes = len;
	memcpy(j->msg.body, text, len);
	j->msg.body[len] = '\0';
	j->msg.body_len = len;
	memcpy(j->msg.to, to, to_len + 1);
	memcpy(j->msg.from, from, from_len + 1);
	memcpy(j->to_id, u.id, sizeof(j->to_id));
	has_oid = object_id(obj, oid);
	j->msg.sent_at = has_oid ? oid_time(oid) : crypto_now();
	if (has_oid) {
		hex(oid, 12, j->key + snprintf(j->key, KEY_MAX,
		    "import.message."));
	} else {
		/* The same record, however it was spaced, has the same
		 * mark. */
		canon = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
		if (canon == NULL || EVP_Digest(canon, strlen(canon), md,
		    &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
			free(canon);
			free(j->msg.body);
			free(j);
			refuse(b, lineno, "cannot hash the record");
			return;
		}
		free(canon);
		hex(md, 32, j->key + snprintf(j->key, KEY_MAX,
		    "import.message.sha256."));
	}
	if (message_id(has_oid ? oid : NULL, j->msg.id) != 0) {
		free(j->msg.body);
		free(j);
		refuse(b, lineno, "no randomness for its id");
		return;
	}
	submit(s, b, j);
}

/* ---- files ---- */

static int
import_file(struct store *s, const char *path, const char *what,
    size_t line_max, size_t max_message)
{
	struct batch b;
	struct record_reader in;
	const char *line;
	struct report why = { 0 };	/* what jsonio_parse says */
	size_t len;
	json_t *obj;
	struct report rep = { 0 };	/* said in the log */
	int rc, r;

	memset(&b, 0, sizeof(b));
	pthread_mutex_init(&b.lock, NULL);
	pthread_cond_init(&b.cond, NULL);
	b.path = path;
	if ((rc = record_reader_open(&in, path, line_max, &rep)) != 0) {
		log_report(&rep);
		goto out;
	}
	while ((r = record_read_line(&in, &line, &len)) != RECORD_READ_EOF) {
		if (r == RECORD_READ_ERROR) {
			log_report(&rep);
			rc = in.rc;
			break;
		}
		if (r == RECORD_READ_TOO_LONG) {
			refuse(&b, in.lineno, "longer than %zu bytes", line_max);
			continue;
		}
		report_clear(&why);
		if ((obj = jsonio_parse(line, len, &why)) == NULL ||
		    !json_is_object(obj)) {
			refuse(&b, in.lineno, "not a JSON object%s%s",
			    obj ? "" : ": ", obj ? "" : report_message(&why));
			json_decref(obj);
			continue;
		}
		if (max_message == 0)
			user_line(s, &b, in.lineno, obj);
		else
			message_line(s, &b, max_message, in.lineno, obj);
		json_decref(obj);
	}
	finish(&b);
	log_note("%s: %lu %s imported, %lu imported before, %lu refused%s",
	    path, b.imported, what, b.already, b.refused,
	    b.refused > SHOWN_MAX ? " (the first 100 shown)" : "");
out:
	record_reader_close(&in);
	pthread_cond_destroy(&b.cond);
	pthread_mutex_destroy(&b.lock);
	return rc;
}

int
import_run(struct store *s, const struct server_config *c)
{
	int rc = 0;

	/* Users first: a message goes only to an account already there. */
	if (c->import_users != NULL)
		rc = import_file(s, c->import_users, "users", USER_LINE_MAX, 0);
	/* A message's text is JSON-escaped in the file (up to 6 bytes for
	 * one): the lines may be that much longer. */
	if (rc == 0 && c->import_messages != NULL)
		rc = import_file(s, c->import_messages, "messages",
		    c->max_message * 6 + USER_LINE_MAX, c->max_message);
	return rc;
}
