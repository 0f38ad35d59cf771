/* budget.c - the request-body memory budget (see budget.h). */
#include "server/budget.h"

size_t
budget_signed_in(size_t cap)
{
	return cap - cap / 4;
}

void
budget_init(struct budget *b, size_t cap)
{
	pthread_mutex_init(&b->lock, NULL);
	b->cap[0] = budget_signed_in(cap);
	b->cap[1] = cap / 4;
	b->used[0] = b->used[1] = 0;
}

void
budget_destroy(struct budget *b)
{
	pthread_mutex_destroy(&b->lock);
}

int
budget_take(struct budget *b, size_t n, int anon)
{
	int k = anon ? 1 : 0, rc = -1;

	pthread_mutex_lock(&b->lock);
	if (n <= b->cap[k] - b->used[k]) {
		b->used[k] += n;
		rc = 0;
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

void
budget_give(struct budget *b, size_t n, int anon)
{
	int k = anon ? 1 : 0;

	pthread_mutex_lock(&b->lock);
	b->used[k] -= n <= b->used[k] ? n : b->used[k];
	pthread_mutex_unlock(&b->lock);
}

size_t
budget_used(struct budget *b)
{
	size_t n;

	pthread_mutex_lock(&b->lock);
	n = b->used[0] + b->used[1];
	pthread_mutex_unlock(&b->lock);
	return n;
}
