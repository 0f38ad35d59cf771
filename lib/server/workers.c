/* workers.c - a plain thread pool (see workers.h). */
#include "workers.h"
#include "err.h"

#include <pthread.h>
#include <stdlib.h>

#define WORKERS_MAX 64

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct work *head, *tail;
	int stop;
	unsigned n;
	pthread_t t[WORKERS_MAX];
};

static void *
loop(void *arg)
{
	struct workers *ws = arg;
	struct work *w;

	for (;;) {
		pthread_mutex_lock(&ws->lock);
		while (ws->head == NULL && !ws->stop)
			pthread_cond_wait(&ws->more, &ws->lock);
		if ((w = ws->head) == NULL) {
			pthread_mutex_unlock(&ws->lock);
			return NULL;
		}
		ws->head = w->next;
		if (ws->head == NULL)
			ws->tail = NULL;
		pthread_mutex_unlock(&ws->lock);
		w->run(w);
	}
}

struct workers *
workers_start(unsigned n)
{
	struct workers *ws = calloc(1, sizeof(*ws));
	unsigned i;

	if (ws == NULL) {
		err_error("out of memory");
		return NULL;
	}
	if (n == 0)
		n = 1;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	pthread_mutex_init(&ws->lock, NULL);
	pthread_cond_init(&ws->more, NULL);
	for (i = 0; i < n; i++) {
		if (pthread_create(&ws->t[i], NULL, loop, ws) != 0)
			break;
		ws->n++;
	}
	if (ws->n == 0) {
		err_error("cannot start worker threads");
		free(ws);
		return NULL;
	}
	return ws;
}

void
workers_submit(struct workers *ws, struct work *w)
{
	w->next = NULL;
	pthread_mutex_lock(&ws->lock);
	if (ws->tail != NULL)
		ws->tail->next = w;
	else
		ws->head = w;
	ws->tail = w;
	pthread_cond_signal(&ws->more);
	pthread_mutex_unlock(&ws->lock);
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
