/* store.c - the storage interface's own part: ids, the writer thread
 * with its group commit (see store.h). */
#include "server/store.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/names.h"
#include "format/crypto.h"
#include "server/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A failure within this long of a lost connection is taken for the
 * database's absence (store_unavailable). */
#define LOST_MS 10000

/* Jobs committed together at most; more wait for the next transaction. */
#define BATCH_MAX 512

struct store_writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct store_job *head, *tail;
	int stop;
	/* Group commit (store_commit_delay): set under lock. */
	unsigned delay_us;
	unsigned (*under_way)(void *arg);
	void *arg;
	/* Transactions committed and their jobs (atomic). */
	uint64_t commits, committed;
	/* Nanoseconds spent in the backend's commit, the flush (atomic). */
	uint64_t commit_ns;
};

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int
store_is_id(const char *s)
{
	return id_valid(s);
}

/* 130 bits into 26 characters: 5 bits each, from 17 random bytes. */
static void
encode(const uint8_t b[17], char out[STORE_ID_LEN + 1])
{
	unsigned i, bit, v, k;

	for (i = 0; i < STORE_ID_LEN; i++) {
		v = 0;
		for (k = 0; k < 5; k++) {
			bit = i * 5 + k;
			v = v << 1 | ((b[bit / 8] >> (7 - bit % 8)) & 1);
		}
		out[i] = crockford[v];
	}
	out[STORE_ID_LEN] = '\0';
}

void
store_id_encode(const uint8_t b[17], char out[STORE_ID_LEN + 1])
{
	encode(b, out);
}

int
store_new_id(char out[STORE_ID_LEN + 1])
{
	uint8_t b[17];
	struct report rep = { 0 };	/* said in the log */
	int rc = crypto_random(b, sizeof(b), &rep);

	log_report(&rep);
	if (rc != 0)
		return -1;
	encode(b, out);
	return 0;
}

int
store_new_ordered_id(char out[STORE_ID_LEN + 1])
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t last_ms;
	static uint8_t last[17];
	struct timespec ts;
	uint64_t ms;
	uint8_t b[17];
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	pthread_mutex_lock(&lock);
	/* 48 bits of milliseconds, then 82 random bits; within the same
	 * millisecond (or if the clock went back) the previous id plus one,
	 * so ids are strictly increasing as strings. */
	if (ms <= last_ms) {
		/* Plus one at bit 129, the last one encode() keeps (it uses
		 * 130 of the 136 bits): 0x40 in the last byte, carried. */
		memcpy(b, last, sizeof(b));
		unsigned carry = 0x40;

		for (i = 16; i >= 0 && carry != 0; i--) {
			carry += b[i];
			b[i] = (uint8_t)carry;
			carry >>= 8;
		}
	} else {
		struct report rep = { 0 };	/* said in the log */
		int rc = crypto_random(b, sizeof(b), &rep);

		log_report(&rep);
		if (rc != 0) {
			pthread_mutex_unlock(&lock);
			return -1;
		}
		for (i = 0; i < 6; i++)
			b[i] = (uint8_t)(ms >> (40 - 8 * i));
		/* Leave room for many increments before the time part. */
		b[6] &= 0x7f;
		last_ms = ms;
	}
	memcpy(last, b, sizeof(b));
	pthread_mutex_unlock(&lock);
	encode(b, out);
	return 0;
}

void
store_key_list_free(struct store_key_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].pem);
		free(l->v[i].proof);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
store_prekey_clear(struct store_prekey *p)
{
	free(p->proof);
	p->proof = NULL;
}

void
store_prekey_stock_list_free(struct store_prekey_stock_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
store_message_list_free(struct store_message_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].body);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const struct store_backend *
store_backend_for(const char *where)
{
	if (strncmp(where, "postgres://", 11) == 0 ||
	    strncmp(where, "postgresql://", 13) == 0)
		return &store_pg;
	return &store_sqlite;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
store_lost(struct store *s)
{
	__atomic_store_n(&s->lost_ms, now_ms(), __ATOMIC_RELAXED);
	__atomic_store_n(&s->down, 1, __ATOMIC_RELEASE);
}

void
store_regained(struct store *s)
{
	__atomic_store_n(&s->down, 0, __ATOMIC_RELEASE);
}

int
store_unavailable(struct store *s)
{
	int64_t lost = __atomic_load_n(&s->lost_ms, __ATOMIC_RELAXED);

	return __atomic_load_n(&s->down, __ATOMIC_ACQUIRE) ||
	    (lost != 0 && now_ms() - lost < LOST_MS);
}

int
store_nospace(struct store *s, const char *what, const char *detail,
    int len)
{
	if (__atomic_exchange_n(&s->full, 1, __ATOMIC_ACQ_REL) == 0)
		log_error("database: the disk is full (%s: %.*s): writes are "
		    "refused (507) until space is freed", what, len, detail);
	return STORE_NOSPACE;
}

void
store_space_back(struct store *s)
{
	if (__atomic_exchange_n(&s->full, 0, __ATOMIC_ACQ_REL) == 1)
		log_note("database: writing again: the disk has room");
}

int
store_listen(struct store *s, void (*fn)(void *arg, const char *user_id),
    void *arg, struct report *rep)
{
	if (s->be == NULL || s->be->listen == NULL)
		return 0;	/* not open (a start that failed), or cannot */
	return s->be->listen(s, fn, arg, rep) == STORE_OK ? 0 : -1;
}

int
store_messages_for(struct store *s, const char *to_id, int64_t version,
    const char *from, const char *after, size_t limit,
    struct store_message_list *out)
{
	struct store_user u;
	int rc;

	if (s->be->messages_for != NULL)
		return s->be->messages_for(s, to_id, version, from, after,
		    limit, out);
	out->v = NULL;
	out->n = 0;
	out->cut = 0;
	if ((rc = s->be->user_by_id(s, to_id, &u)) != STORE_OK)
		return rc;
	if (u.token_version != version)
		return STORE_NOT_FOUND;
	return s->be->messages(s, to_id, from, after, limit, out);
}

int
store_ping(struct store *s)
{
	return s->be->ping == NULL ? STORE_OK : s->be->ping(s);
}

int
store_user_current(struct store *s, const char *id, int64_t version)
{
	struct store_user u;
	int rc = s->be->user_current(s, id, &u);

	if (rc == STORE_OK && u.token_version != version)
		rc = STORE_NOT_FOUND;
	wipe(&u, sizeof(u));	/* its password hash */
	return rc;
}

int
store_message_put_within(struct store *s, const struct store_message *m,
    const char *to_id, size_t max_messages, size_t max_bytes)
{
	int rc = s->be->put_finds_user ? STORE_OK : s->be->user_lock(s,
	    to_id);

	return rc != STORE_OK ? rc : s->be->message_put_within(s, m, to_id,
	    max_messages, max_bytes);
}

int
store_key_put(struct store *s, const char *user_id,
    const struct store_key *k)
{
	int64_t count;
	int have, rc;

	if ((rc = s->be->user_lock(s, user_id)) != STORE_OK ||
	    (rc = s->be->key_count(s, user_id, k->kid, &count, &have)) !=
	    STORE_OK)
		return rc;
	/* One key per device, a few devices: a new key past the cap is
	 * refused; one already there may get its proof. */
	if (!have && count >= STORE_KEYS_MAX)
		return STORE_CONFLICT;
	return s->be->key_put(s, user_id, k);
}

int
store_prekeys_put(struct store *s, const char *user_id, const char *kid,
    const struct store_prekey *signed_pk, const struct store_prekey *one_time,
    size_t n, size_t max, size_t *added, int64_t *stock)
{
	int64_t count;
	size_t i;
	int have, rc;

	*added = 0;
	*stock = 0;
	if ((rc = s->be->user_lock(s, user_id)) != STORE_OK ||
	    (rc = s->be->key_count(s, user_id, kid, &count, &have)) !=
	    STORE_OK)
		return rc;
	if (!have)
		return STORE_NOT_FOUND;
	if (signed_pk != NULL && ((rc = s->be->prekey_signed_drop(s, kid)) !=
	    STORE_OK || (rc = s->be->prekey_put(s, user_id, kid,
	    signed_pk)) != STORE_OK))
		/* Its pkid is a one-time prekey's of the key: refused. */
		return rc;
	/* Sent again (an answer lost): the ones already there stay as they
	 * are, once. */
	for (i = 0; i < n; i++) {
		rc = s->be->prekey_put(s, user_id, kid, &one_time[i]);
		if (rc == STORE_OK)
			(*added)++;
		else if (rc != STORE_CONFLICT)
			return rc;
	}
	if ((rc = s->be->prekey_count(s, kid, stock)) != STORE_OK)
		return rc;
	if (*stock > 0 && (uint64_t)*stock > max) {
		*stock -= (int64_t)*added;
		return STORE_FULL;
	}
	return STORE_OK;
}

/* ---- limits shared by every server (see store.h) ---- */

/* Rows swept at most each time, and how many puts between sweeps: the
 * writers delete faster than they can add. */
#define SWEEP_MAX 256
#define SWEEP_EVERY 32

int64_t
store_limit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* key's row, or the state of a key never counted (0, 0) when there is
 * none or it has expired. */
static int
limit_load(struct store *s, const char *key, int64_t now, double *n,
    int64_t *t)
{
	int64_t expires = 0;
	int rc = s->be->limit_get(s, key, n, t, &expires);

	if (rc == STORE_NOT_FOUND || (rc == STORE_OK && expires <= now)) {
		*n = 0;
		*t = 0;
		rc = STORE_OK;
	}
	return rc;
}

/* After a limit's row was written (rc, STORE_OK when it was), every
 * SWEEP_EVERY-th time: the expired rows swept. */
static int
limit_written(struct store *s, int rc, int64_t now)
{
	size_t deleted;

	if (rc == STORE_OK && ++s->limit_puts >= SWEEP_EVERY) {
		s->limit_puts = 0;
		rc = s->be->limit_sweep(s, now, SWEEP_MAX, &deleted);
	}
	return rc;
}

static int
limit_save(struct store *s, const char *key, double n, int64_t t,
    int64_t expires, int64_t now)
{
	return limit_written(s, s->be->limit_put(s, key, n, t, expires), now);
}

/* A rate's row holds the tokens spent (n, 0 for a full bucket) at t:
 * they come back at per_s a second. */
static double
spent(const struct store_limit *l, double n, int64_t t, int64_t now)
{
	double back = (double)(now > t ? now - t : 0) * l->per_s / 1000.0;

	return n > back ? n - back : 0;
}

static int64_t
rate_expires(const struct store_limit *l, double n, int64_t now)
{
	return now + (int64_t)(n * 1000.0 / l->per_s) + 1;
}

/* A backoff's first wait and longest, as throttle_new_backoff takes
 * them. */
static void
backoff_waits(const struct store_limit *l, int64_t *base, int64_t *max)
{
	*max = l->window > 0 ? l->window : 1;
	*base = l->base > 0 ? l->base : 1;
	if (*base > *max)
		*base = *max;
}

/* When a backoff that has counted n (at least the limit) ends: t plus
 * base, doubled for each count past the limit, at most max. */
static int64_t
backoff_until(const struct store_limit *l, double n, int64_t t)
{
	int64_t base, max, wait;
	unsigned over = (unsigned)n - l->limit;

	backoff_waits(l, &base, &max);
	wait = over >= 32 ? max : base << over;
	if (wait > max)
		wait = max;
	return t + wait * 1000;
}

static int64_t
count_expires(const struct store_limit *l, int64_t t)
{
	int64_t base, max;

	if (l->kind == STORE_LIMIT_WINDOW)
		return t + (int64_t)l->window * 1000;
	backoff_waits(l, &base, &max);
	return t + 2 * max * 1000;
}

static unsigned
wait_until(int64_t until, int64_t now)
{
	int64_t ms = until - now;

	return ms <= 0 ? 1 : (unsigned)((ms + 999) / 1000);
}

int
store_limit_take(struct store *s, const struct store_limit *l,
    const char *key, int64_t now, unsigned *wait_s)
{
	int64_t t, until;
	double n;
	int rc;

	*wait_s = 0;
	if ((rc = limit_load(s, key, now, &n, &t)) != STORE_OK)
		return rc;
	if (l->kind == STORE_LIMIT_RATE) {
		n = spent(l, n, t, now);
		if (n + 1.0 > l->burst) {
			/* Until the token is back, rounded up. */
			double ms = (n + 1.0 - l->burst) * 1000.0 / l->per_s;
			int64_t m = (int64_t)ms;

			*wait_s = wait_until(now + m + ((double)m < ms), now);
			return STORE_LIMITED;
		}
		return limit_save(s, key, n + 1.0, now, rate_expires(l,
		    n + 1.0, now), now);
	}
	if (n >= l->limit) {
		until = l->kind == STORE_LIMIT_WINDOW ? t +
		    (int64_t)l->window * 1000 : backoff_until(l, n, t);
		if (l->kind == STORE_LIMIT_WINDOW || now < until) {
			*wait_s = wait_until(until, now);
			return STORE_LIMITED;
		}
	}
	/* A window starts at its first count; a backoff counts from its
	 * last. */
	if (n == 0 || l->kind == STORE_LIMIT_BACKOFF)
		t = now;
	return limit_save(s, key, n + 1.0, t, count_expires(l, t), now);
}

int
store_send(struct store *s, const struct store_limit *l, const char *key,
    int64_t now, unsigned *wait_s, const struct store_message *m,
    const int64_t *from_version, const char *to_id, size_t max_messages,
    size_t max_bytes)
{
	int rc;

	*wait_s = 0;
	if (s->be->send == NULL || l->kind != STORE_LIMIT_RATE ||
	    !(l->per_s > 0)) {
		if (from_version != NULL && (rc = store_user_current(s,
		    m->from_id, *from_version)) != STORE_OK)
			return rc == STORE_NOT_FOUND ? STORE_REVOKED : rc;
		rc = store_limit_take(s, l, key, now, wait_s);
		return rc != STORE_OK ? rc : store_message_put_within(s, m,
		    to_id, max_messages, max_bytes);
	}
	/* Its rate's row counted as limit_save's are. */
	return limit_written(s, s->be->send(s, l, key, now, wait_s, m,
	    from_version, to_id, max_messages, max_bytes), now);
}

int
store_limit_give(struct store *s, const struct store_limit *l,
    const char *key, int64_t now)
{
	int64_t t;
	double n;
	int rc;

	if ((rc = limit_load(s, key, now, &n, &t)) != STORE_OK)
		return rc;
	if (l->kind == STORE_LIMIT_RATE) {
		n = spent(l, n, t, now);
		n = n > 1.0 ? n - 1.0 : 0;
		return limit_save(s, key, n, now, rate_expires(l, n, now), now);
	}
	if (n < 1.0)
		return STORE_OK;	/* forgotten meanwhile */
	return limit_save(s, key, n - 1.0, t, count_expires(l, t), now);
}

int
store_limit_clear(struct store *s, const char *key)
{
	/* Expired at once: swept in time. */
	return s->be->limit_put(s, key, 0, 0, 0);
}

/* Returns 0 when the batch committed (each job's result in res), or -1
 * (every result the failure's: STORE_ERROR, STORE_NOSPACE). */
static int
run_batch(struct store *s, struct store_job **jobs, int *res, size_t n)
{
	const struct store_backend *be = s->be;
	struct timespec t0, t1;
	size_t i;
	int rc;

	if ((rc = be->begin(s)) != STORE_OK) {
		for (i = 0; i < n; i++)
			res[i] = rc;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((rc = be->savepoint(s)) != STORE_OK) {
			res[i] = rc;
			continue;
		}
		res[i] = jobs[i]->run(s, jobs[i]);
		/* A refused job undoes its own changes, and only those. */
		if ((rc = be->release(s, res[i] == STORE_OK)) != STORE_OK)
			res[i] = rc;
	}
	if (be->settle != NULL)
		be->settle(s, res, n);
	/* Timed: the flush bounds the send rate (bench/README.md). */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = be->commit(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	__atomic_add_fetch(&s->writer->commit_ns, (uint64_t)((t1.tv_sec -
	    t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec)),
	    __ATOMIC_RELAXED);
	/* Failed (a full disk: STORE_NOSPACE): none of the jobs is. */
	if (rc != STORE_OK) {
		(void)be->rollback(s);
		for (i = 0; i < n; i++)
			res[i] = rc;
		return -1;
	}
	return 0;
}

/* Moves queued jobs into jobs[n..BATCH_MAX); returns the new count.
 * Called with the lock held. */
static size_t
take(struct store_writer *w, struct store_job **jobs, size_t n)
{
	struct store_job *j;

	for (; n < BATCH_MAX && w->head != NULL; n++) {
		j = w->head;
		w->head = j->next;
		jobs[n] = j;
	}
	if (w->head == NULL)
		w->tail = NULL;
	return n;
}

/* Group commit: more jobs for this transaction, while requests that may
 * bring one are under way, for up to the delay after the first, until
 * the batch is full. One fdatasync then covers them all; a lone job
 * (nothing else under way) is committed at once. Called with the lock
 * held; returns the new count. */
static size_t
gather(struct store_writer *w, struct store_job **jobs, size_t n)
{
	struct timespec until;

	if (w->delay_us == 0 || w->under_way == NULL)
		return n;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)(w->delay_us % 1000000) * 1000;
	until.tv_sec += w->delay_us / 1000000 + until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	while (n < BATCH_MAX && !w->stop && w->under_way(w->arg) > 0) {
		if (pthread_cond_timedwait(&w->more, &w->lock, &until) ==
		    ETIMEDOUT)
			break;
		n = take(w, jobs, n);
	}
	return take(w, jobs, n);
}

static void *
writer(void *arg)
{
	struct store *s = arg;
	struct store_writer *w = s->writer;
	struct store_job *jobs[BATCH_MAX];
	int res[BATCH_MAX];
	size_t n, i;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->more, &w->lock);
		if (w->head == NULL) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		n = gather(w, jobs, take(w, jobs, 0));
		pthread_mutex_unlock(&w->lock);

		if (run_batch(s, jobs, res, n) == 0) {
			__atomic_add_fetch(&w->commits, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&w->committed, n, __ATOMIC_RELAXED);
		}
		for (i = 0; i < n; i++)
			jobs[i]->done(jobs[i], res[i]);
	}
}

int
store_open(struct store *s, const struct store_backend *be, const char *where,
    struct report *rep)
{
	struct store_writer *w;
	pthread_condattr_t ca;

	memset(s, 0, sizeof(*s));
	s->be = be;
	if (be->open(s, where, rep) != STORE_OK)
		return -1;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		be->close(s);
		return -1;
	}
	pthread_mutex_init(&w->lock, NULL);
	/* gather() waits on the monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->more, &ca);
	pthread_condattr_destroy(&ca);
	s->writer = w;
	if (pthread_create(&w->thread, NULL, writer, s) != 0) {
		report_error(rep, E2E_EX_SOFTWARE,
		    "cannot start the database writer thread");
		be->close(s);
		free(w);
		s->writer = NULL;
		return -1;
	}
	return 0;
}

void
store_close(struct store *s)
{
	struct store_writer *w = s->writer;

	if (w != NULL) {
		pthread_mutex_lock(&w->lock);
		w->stop = 1;
		pthread_cond_signal(&w->more);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		pthread_cond_destroy(&w->more);
		pthread_mutex_destroy(&w->lock);
		free(w);
		s->writer = NULL;
	}
	if (s->be != NULL)
		s->be->close(s);
}

void
store_submit(struct store *s, struct store_job *j)
{
	struct store_writer *w = s->writer;

	j->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->tail != NULL)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
}

void
store_commit_delay(struct store *s, unsigned delay_us,
    unsigned (*under_way)(void *arg), void *arg)
{
	struct store_writer *w = s->writer;

	pthread_mutex_lock(&w->lock);
	w->delay_us = delay_us;
	w->under_way = under_way;
	w->arg = arg;
	pthread_mutex_unlock(&w->lock);
}

void
store_commit_counts(struct store *s, uint64_t *commits, uint64_t *jobs)
{
	struct store_writer *w = s->writer;

	*commits = __atomic_load_n(&w->commits, __ATOMIC_RELAXED);
	*jobs = __atomic_load_n(&w->committed, __ATOMIC_RELAXED);
}

uint64_t
store_commit_ns(struct store *s)
{
	return __atomic_load_n(&s->writer->commit_ns, __ATOMIC_RELAXED);
}

struct sync_job {
	struct store_job job;
	struct store_job *inner;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int finished, result;
};

static int
sync_run(struct store *s, struct store_job *j)
{
	struct sync_job *sj = (struct sync_job *)j;

	return sj->inner->run(s, sj->inner);
}

static void
sync_done(struct store_job *j, int result)
{
	struct sync_job *sj = (struct sync_job *)j;

	pthread_mutex_lock(&sj->lock);
	sj->finished = 1;
	sj->result = result;
	pthread_cond_signal(&sj->cond);
	pthread_mutex_unlock(&sj->lock);
}

int
store_run(struct store *s, struct store_job *j)
{
	struct sync_job sj;

	memset(&sj, 0, sizeof(sj));
	sj.job.run = sync_run;
	sj.job.done = sync_done;
	sj.inner = j;
	pthread_mutex_init(&sj.lock, NULL);
	pthread_cond_init(&sj.cond, NULL);
	store_submit(s, &sj.job);
	pthread_mutex_lock(&sj.lock);
	while (!sj.finished)
		pthread_cond_wait(&sj.cond, &sj.lock);
	pthread_mutex_unlock(&sj.lock);
	pthread_cond_destroy(&sj.cond);
	pthread_mutex_destroy(&sj.lock);
	return sj.result;
}
