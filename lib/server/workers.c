/* workers.c - a thread pool with a fair, bounded queue (see workers.h). */
#include "server/workers.h"
#include "base/err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKERS_MAX 64

/* The jobs waiting under one key. */
struct flow {
	char key[WORKERS_KEY_MAX];
	struct work *head, *tail;
	unsigned n;
	struct flow *next;
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct work *head, *tail;	/* unkeyed work, first served */
	struct flow *first, *last;	/* keys with work, in turn */
	unsigned waiting;		/* keyed jobs not yet started */
	unsigned queue_max, per_key_max;
	int stop;
	unsigned n;
	pthread_t t[WORKERS_MAX];
};

/* The next job, or NULL. Called with the lock held. */
static struct work *
next_job(struct workers *ws)
{
	struct flow *f;
	struct work *w;

	if ((w = ws->head) != NULL) {
		ws->head = w->next;
		if (ws->head == NULL)
			ws->tail = NULL;
		return w;
	}
	if ((f = ws->first) == NULL)
		return NULL;
	w = f->head;
	f->head = w->next;
	f->n--;
	ws->waiting--;
	/* The key's turn is over: to the back of the line, or gone. */
	ws->first = f->next;
	if (ws->first == NULL)
		ws->last = NULL;
	f->next = NULL;
	if (f->n == 0) {
		free(f);
	} else {
		if (ws->last != NULL)
			ws->last->next = f;
		else
			ws->first = f;
		ws->last = f;
	}
	return w;
}

static void *
loop(void *arg)
{
	struct workers *ws = arg;
	struct work *w;

	for (;;) {
		pthread_mutex_lock(&ws->lock);
		while ((w = next_job(ws)) == NULL && !ws->stop)
			pthread_cond_wait(&ws->more, &ws->lock);
		pthread_mutex_unlock(&ws->lock);
		if (w == NULL)
			return NULL;
		w->run(w);
	}
}

struct workers *
workers_start(unsigned n, unsigned queue_max, unsigned per_key_max,
    struct report *rep)
{
	struct workers *ws = calloc(1, sizeof(*ws));
	long cores;
	unsigned i;

	if (ws == NULL) {
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
		return NULL;
	}
	if (n == 0) {
		cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores > 0 ? (unsigned)cores : 1;
	}
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	ws->queue_max = queue_max;
	ws->per_key_max = per_key_max;
	pthread_mutex_init(&ws->lock, NULL);
	pthread_cond_init(&ws->more, NULL);
	for (i = 0; i < n; i++) {
		if (pthread_create(&ws->t[i], NULL, loop, ws) != 0)
			break;
		ws->n++;
	}
	if (ws->n == 0) {
		report_error(rep, E2E_EX_SOFTWARE,
		    "cannot start worker threads");
		free(ws);
		return NULL;
	}
	return ws;
}

unsigned
workers_count(const struct workers *ws)
{
	return ws->n;
}

void
workers_submit(struct workers *ws, struct work *w)
{
	w->next = NULL;
	w->key[0] = '\0';
	pthread_mutex_lock(&ws->lock);
	if (ws->tail != NULL)
		ws->tail->next = w;
	else
		ws->head = w;
	ws->tail = w;
	pthread_cond_signal(&ws->more);
	pthread_mutex_unlock(&ws->lock);
}

int
workers_submit_keyed(struct workers *ws, struct work *w, const char *key)
{
	struct flow *f;
	int rc = WORKERS_OK;

	w->next = NULL;
	snprintf(w->key, sizeof(w->key), "%s", key);
	pthread_mutex_lock(&ws->lock);
	/* At most queue_max keys have work, so this walk is short. */
	for (f = ws->first; f != NULL; f = f->next)
		if (strcmp(f->key, w->key) == 0)
			break;
	/* Out of memory is a full queue to the caller, as below. */
	/* NOLINTNEXTLINE(bugprone-branch-clone) */
	if (ws->queue_max > 0 && ws->waiting >= ws->queue_max) {
		rc = WORKERS_FULL;
	} else if (f != NULL && ws->per_key_max > 0 &&
	    f->n >= ws->per_key_max) {
		rc = WORKERS_KEY_FULL;
	} else if (f == NULL && (f = calloc(1, sizeof(*f))) == NULL) {
		rc = WORKERS_FULL;
	} else {
		if (f->n == 0) {
			memcpy(f->key, w->key, sizeof(f->key));
			if (ws->last != NULL)
				ws->last->next = f;
			else
				ws->first = f;
			ws->last = f;
		}
		if (f->tail != NULL && f->n > 0)
			f->tail->next = w;
		else
			f->head = w;
		f->tail = w;
		f->n++;
		ws->waiting++;
		pthread_cond_signal(&ws->more);
	}
	pthread_mutex_unlock(&ws->lock);
	return rc;
}

void
workers_stop(struct workers *ws)
{
	unsigned i;

	if (ws == NULL)
		return;
	pthread_mutex_lock(&ws->lock);
	ws->stop = 1;
	pthread_cond_broadcast(&ws->more);
	pthread_mutex_unlock(&ws->lock);
	for (i = 0; i < ws->n; i++)
		pthread_join(ws->t[i], NULL);
	pthread_cond_destroy(&ws->more);
	pthread_mutex_destroy(&ws->lock);
	free(ws);
}
