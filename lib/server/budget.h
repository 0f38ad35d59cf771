/*
 * budget.h - the server-wide budget of memory for request bodies
 * (--max-body-memory). An upload reserves what its body may take before
 * any byte of it is read, and gives it back when the request ends; over
 * the budget it is refused at once. A quarter is kept for uploads without
 * a token header (sign-up, sign-in, a token in the body), three quarters
 * for signed-in senders, so that neither kind can crowd out the other.
 */
#ifndef E2E_BUDGET_H
#define E2E_BUDGET_H

#include <pthread.h>
#include <stddef.h>

struct budget {
	pthread_mutex_t lock;
	size_t cap[2];		/* [0] signed-in, [1] anonymous */
	size_t used[2];
};

void budget_init(struct budget *b, size_t cap);
void budget_destroy(struct budget *b);
/* What signed-in uploads may take of a budget of cap bytes. */
size_t budget_signed_in(size_t cap);
/* Reserves n bytes (anon: for an anonymous upload). Returns 0, or -1
 * when that would go over its part of the budget. */
int budget_take(struct budget *b, size_t n, int anon);
/* Gives back what budget_take reserved. */
void budget_give(struct budget *b, size_t n, int anon);
/* Both parts together. */
size_t budget_used(struct budget *b);

#endif
