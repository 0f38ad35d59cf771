/*
 * The socket watcher (sockwatch.c) on socket pairs: a watched socket
 * whose peer hangs up calls gone() once and resume() when gone says so;
 * unwatching first means gone() never runs; lingering sockets are drained
 * until their peer closes, or cut at their time or byte bound; full
 * tables refuse. tests/bats/server_conn.bats drives it through a real
 * server.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "server/sockwatch.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int gone_calls, resume_calls, gone_answer;
static void *last_arg;

static int
on_gone(void *arg)
{
	pthread_mutex_lock(&lock);
	gone_calls++;
	last_arg = arg;
	pthread_mutex_unlock(&lock);
	return gone_answer;
}

static void
on_resume(void *arg)
{
	pthread_mutex_lock(&lock);
	resume_calls++;
	last_arg = arg;
	pthread_mutex_unlock(&lock);
}

static int
count(int *what)
{
	int n;

	pthread_mutex_lock(&lock);
	n = *what;
	pthread_mutex_unlock(&lock);
	return n;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Polls until *what reaches want, for at most 5 s. */
static int
reaches(int *what, int want)
{
	int i;

	for (i = 0; i < 500 && count(what) < want; i++)
		pause_ms(10);
	return count(what) == want;
}

static int
lingering_is(struct sockwatch *sw, size_t want)
{
	int i;

	for (i = 0; i < 500 && sockwatch_lingering(sw) != want; i++)
		pause_ms(10);
	return sockwatch_lingering(sw) == want;
}

static struct sockwatch *
start(size_t watched, size_t lingering, unsigned ms, size_t bytes)
{
	struct sockwatch_config c = { watched, lingering, ms, bytes, on_gone,
		on_resume };

	pthread_mutex_lock(&lock);
	gone_calls = resume_calls = 0;
	last_arg = NULL;
	pthread_mutex_unlock(&lock);
	return sockwatch_new(&c, NULL);
}

static void
pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) {
		perror("socketpair");
		abort();
	}
}

static void
hang_up_calls_gone_then_resume(void)
{
	struct sockwatch *sw = start(4, 4, 1000, 1 << 20);
	int sv[2], tag;
	uint64_t id = 0;

	CHECK(sw != NULL);
	pair(sv);
	gone_answer = 1;
	CHECK(sockwatch_watch(sw, sv[0], &tag, &id) == 0 && id != 0);
	/* Data from the client is not a hang-up. */
	CHECK(send(sv[1], "x", 1, MSG_NOSIGNAL) == 1);
	pause_ms(50);
	CHECK(count(&gone_calls) == 0);
	close(sv[1]);
	CHECK(reaches(&resume_calls, 1));
	CHECK(count(&gone_calls) == 1 && last_arg == &tag);
	/* Once gone, it is not watched any more. */
	CHECK(sockwatch_unwatch(sw, id) == 0);
	close(sv[0]);
	sockwatch_free(sw);
}

static void
gone_saying_no_means_no_resume(void)
{
	struct sockwatch *sw = start(4, 4, 1000, 1 << 20);
	int sv[2], tag;
	uint64_t id = 0;

	pair(sv);
	gone_answer = 0;
	CHECK(sockwatch_watch(sw, sv[0], &tag, &id) == 0);
	close(sv[1]);
	CHECK(reaches(&gone_calls, 1));
	pause_ms(50);
	CHECK(count(&resume_calls) == 0);
	close(sv[0]);
	sockwatch_free(sw);
}

static void
unwatched_first_is_never_gone(void)
{
	struct sockwatch *sw = start(4, 4, 1000, 1 << 20);
	int sv[2], tag;
	uint64_t id = 0, id2 = 0;

	pair(sv);
	gone_answer = 1;
	CHECK(sockwatch_watch(sw, sv[0], &tag, &id) == 0);
	CHECK(sockwatch_unwatch(sw, id) == 1);
	CHECK(sockwatch_unwatch(sw, id) == 0);
	close(sv[1]);
	pause_ms(100);
	CHECK(count(&gone_calls) == 0);
	/* A slot used again has a new id: the old one means nothing. */
	pair(sv);
	CHECK(sockwatch_watch(sw, sv[0], &tag, &id2) == 0 && id2 != id);
	CHECK(sockwatch_unwatch(sw, id) == 0);
	CHECK(sockwatch_unwatch(sw, id2) == 1);
	close(sv[0]);
	close(sv[1]);
	sockwatch_free(sw);
}

static void
full_tables_refuse(void)
{
	struct sockwatch *sw = start(1, 1, 10000, 1 << 20);
	int a[2], b[2], c[2], d[2], tag;
	uint64_t id, id2;

	pair(a);
	pair(b);
	CHECK(sockwatch_watch(sw, a[0], &tag, &id) == 0);
	CHECK(sockwatch_watch(sw, b[0], &tag, &id2) != 0);
	CHECK(sockwatch_unwatch(sw, id) == 1);
	CHECK(sockwatch_watch(sw, b[0], &tag, &id2) == 0);
	CHECK(sockwatch_unwatch(sw, id2) == 1);
	/* One lingers; the next is closed at once. */
	pair(c);
	pair(d);
	sockwatch_linger(sw, c[0]);
	CHECK(sockwatch_lingering(sw) == 1);
	sockwatch_linger(sw, d[0]);
	CHECK(sockwatch_lingering(sw) == 1);
	CHECK(read(d[1], &tag, 1) == 0);	/* closed: EOF */
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	close(c[1]);
	close(d[1]);
	CHECK(lingering_is(sw, 0));
	sockwatch_free(sw);
}

static void
linger_until_peer_closes(void)
{
	struct sockwatch *sw = start(1, 4, 10000, 1 << 20);
	char buf[4096];
	int sv[2], i;

	memset(buf, 'a', sizeof(buf));
	pair(sv);
	sockwatch_linger(sw, sv[0]);
	/* The peer goes on sending: drained, never a reset. */
	for (i = 0; i < 64; i++)
		while (send(sv[1], buf, sizeof(buf), MSG_NOSIGNAL) < 0 &&
		    errno == EAGAIN)
			pause_ms(1);
	CHECK(sockwatch_lingering(sw) == 1);
	close(sv[1]);
	CHECK(lingering_is(sw, 0));
	sockwatch_free(sw);
}

static void
linger_is_bounded(void)
{
	struct sockwatch *sw = start(1, 4, 200, 64 * 1024);
	char buf[4096];
	int sv[2], tv[2], i;
	ssize_t n;

	/* In time: a peer that says nothing is closed after 200 ms. */
	pair(sv);
	sockwatch_linger(sw, sv[0]);
	pause_ms(50);
	CHECK(sockwatch_lingering(sw) == 1);
	CHECK(lingering_is(sw, 0));
	CHECK(read(sv[1], buf, 1) == 0);
	close(sv[1]);
	sockwatch_free(sw);
	/* In bytes: past 64 KiB it is closed, long before its time. */
	sw = start(1, 4, 60000, 64 * 1024);
	memset(buf, 'a', sizeof(buf));
	pair(tv);
	sockwatch_linger(sw, tv[0]);
	for (i = 0; i < 2000; i++) {
		n = send(tv[1], buf, sizeof(buf), MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			pause_ms(1);
			continue;
		}
		if (n < 0)
			break;	/* closed under us: EPIPE */
	}
	CHECK(lingering_is(sw, 0));
	close(tv[1]);
	sockwatch_free(sw);
}

static void
linger_off_closes_at_once(void)
{
	struct sockwatch *sw = start(1, 4, 0, 1 << 20);
	int sv[2];
	char c;

	pair(sv);
	sockwatch_linger(sw, sv[0]);
	CHECK(sockwatch_lingering(sw) == 0);
	CHECK(read(sv[1], &c, 1) == 0);
	close(sv[1]);
	sockwatch_free(sw);
}

static void
free_closes_lingering(void)
{
	struct sockwatch *sw = start(1, 4, 60000, 1 << 20);
	int sv[2];
	char c;

	pair(sv);
	sockwatch_linger(sw, sv[0]);
	sockwatch_free(sw);
	CHECK(read(sv[1], &c, 1) == 0);
	close(sv[1]);
}

int
main(void)
{
	RUN(hang_up_calls_gone_then_resume);
	RUN(gone_saying_no_means_no_resume);
	RUN(unwatched_first_is_never_gone);
	RUN(full_tables_refuse);
	RUN(linger_until_peer_closes);
	RUN(linger_is_bounded);
	RUN(linger_off_closes_at_once);
	RUN(free_closes_lingering);
	return harness_end();
}
