/* metrics.c - counters for GET /metrics (see metrics.h). */
#include "server/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned statuses[] = { 200, 204, 400, 403, 404, 405, 409,
	413, 429, 500, 503 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))
static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
#define NBUCKET (sizeof(buckets) / sizeof(buckets[0]))

struct metrics {
	pthread_mutex_t lock;
	const char *const *names;
	size_t nroutes;
	uint64_t *count;	/* [route][status], the last status is "other" */
	uint64_t hist[NBUCKET + 1];
	double sum;
	uint64_t total;
	int64_t messages;
	size_t body_bytes, lingering;
	uint64_t commits, commit_jobs, commit_ns;
	unsigned pad_cost;
};

struct metrics *
metrics_new(const char *const *names, size_t nroutes)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	if ((m->count = calloc(nroutes * (NSTATUS + 1), sizeof(uint64_t))) ==
	    NULL) {
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->names = names;
	m->nroutes = nroutes;
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->count);
	free(m);
}

void
metrics_request(struct metrics *m, size_t route, unsigned status,
    double seconds)
{
	size_t s, b;

	for (s = 0; s < NSTATUS && statuses[s] != status; s++)
		;
	for (b = 0; b < NBUCKET && seconds > buckets[b]; b++)
		;
	pthread_mutex_lock(&m->lock);
	if (route < m->nroutes)
		m->count[route * (NSTATUS + 1) + s]++;
	m->hist[b]++;
	m->sum += seconds;
	m->total++;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_set_messages(struct metrics *m, int64_t n)
{
	pthread_mutex_lock(&m->lock);
	m->messages = n;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_set_http(struct metrics *m, size_t body_bytes, size_t lingering)
{
	pthread_mutex_lock(&m->lock);
	m->body_bytes = body_bytes;
	m->lingering = lingering;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_set_store(struct metrics *m, uint64_t commits, uint64_t jobs)
{
	pthread_mutex_lock(&m->lock);
	m->commits = commits;
	m->commit_jobs = jobs;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_set_commit_time(struct metrics *m, uint64_t ns)
{
	pthread_mutex_lock(&m->lock);
	m->commit_ns = ns;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_set_pad_cost(struct metrics *m, unsigned cost)
{
	pthread_mutex_lock(&m->lock);
	m->pad_cost = cost;
	pthread_mutex_unlock(&m->lock);
}

static int put(struct buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
put(struct buf *out, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return buf_append(out, line, (size_t)n);
}

int
metrics_render(struct metrics *m, size_t waiting, struct buf *out)
{
	uint64_t c, cum = 0;
	size_t r, s, b;
	int rc = 0;

	pthread_mutex_lock(&m->lock);
	rc |= put(out, "# HELP e2e_requests_total Requests answered, by route "
	    "and status.\n# TYPE e2e_requests_total counter\n");
	for (r = 0; r < m->nroutes; r++)
		for (s = 0; s <= NSTATUS; s++) {
			c = m->count[r * (NSTATUS + 1) + s];
			if (c == 0)
				continue;
			if (s < NSTATUS)
				rc |= put(out, "e2e_requests_total{route=\"%s\","
				    "status=\"%u\"} %llu\n", m->names[r],
				    statuses[s], (unsigned long long)c);
			else
				rc |= put(out, "e2e_requests_total{route=\"%s\","
				    "status=\"other\"} %llu\n", m->names[r],
				    (unsigned long long)c);
		}
	rc |= put(out, "# HELP e2e_request_duration_seconds Time to answer a "
	    "request.\n# TYPE e2e_request_duration_seconds histogram\n");
	for (b = 0; b < NBUCKET; b++) {
		cum += m->hist[b];
		rc |= put(out, "e2e_request_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n", buckets[b], (unsigned long long)cum);
	}
	cum += m->hist[NBUCKET];
	rc |= put(out, "e2e_request_duration_seconds_bucket{le=\"+Inf\"} "
	    "%llu\n", (unsigned long long)cum);
	rc |= put(out, "e2e_request_duration_seconds_sum %.6f\n", m->sum);
	rc |= put(out, "e2e_request_duration_seconds_count %llu\n",
	    (unsigned long long)m->total);
	if (m->messages >= 0)
		rc |= put(out, "# HELP e2e_messages_stored Messages stored, "
		    "not yet acknowledged.\n# TYPE e2e_messages_stored gauge\n"
		    "e2e_messages_stored %lld\n", (long long)m->messages);
	rc |= put(out, "# HELP e2e_receivers_waiting Receivers waiting for a "
	    "message (long-poll).\n# TYPE e2e_receivers_waiting gauge\n"
	    "e2e_receivers_waiting %zu\n", waiting);
	rc |= put(out, "# HELP e2e_body_memory_bytes Request-body memory "
	    "reserved (--max-body-memory).\n# TYPE e2e_body_memory_bytes "
	    "gauge\ne2e_body_memory_bytes %zu\n", m->body_bytes);
	rc |= put(out, "# HELP e2e_connections_lingering Connections drained "
	    "after an early answer.\n# TYPE e2e_connections_lingering gauge\n"
	    "e2e_connections_lingering %zu\n", m->lingering);
	rc |= put(out, "# HELP e2e_store_commits_total Database transactions "
	    "committed (one disk flush each).\n# TYPE e2e_store_commits_total "
	    "counter\ne2e_store_commits_total %llu\n",
	    (unsigned long long)m->commits);
	rc |= put(out, "# HELP e2e_store_commit_jobs_total Writes (sends, "
	    "acknowledgements...) in those transactions.\n# TYPE "
	    "e2e_store_commit_jobs_total counter\n"
	    "e2e_store_commit_jobs_total %llu\n",
	    (unsigned long long)m->commit_jobs);
	rc |= put(out, "# HELP e2e_store_commit_seconds_total Time spent "
	    "committing them (the disk flush).\n# TYPE "
	    "e2e_store_commit_seconds_total counter\n"
	    "e2e_store_commit_seconds_total %.6f\n",
	    (double)m->commit_ns / 1e9);
	rc |= put(out, "# HELP e2e_signin_pad_cost The bcrypt cost a failed "
	    "sign-in takes as long as.\n# TYPE e2e_signin_pad_cost gauge\n"
	    "e2e_signin_pad_cost %u\n", m->pad_cost);
	pthread_mutex_unlock(&m->lock);
	return rc == 0 ? 0 : -1;
}
