/*
 * latency.c - delivery latency of e2e-server with long-poll, for
 * bench/server.sh.
 *
 *   latency HOST PORT SENDERS RECEIVERS COUNT [SIZE [RECV_PORT]]
 *
 * One thread per receiver (each a user of the RECEIVERS file, "NAME
 * TOKEN" lines) loops: GET /messages?wait=30 on its own kept-alive
 * connection, then POST /messages/ack of what it got. The main thread,
 * as the first user of SENDERS, sends COUNT messages one at a time, each
 * to the next receiver in turn, and waits until that one has it before
 * sending the next, and until that one has acknowledged it and waits
 * again: so every message meets an idle server and a receiver that has
 * been waiting (its GET written) for a while. (An acknowledgement still
 * under way is a write of its own: on two instances its transaction on
 * the receivers' server holds the writers' turn that the next send, on
 * the other, waits for, and that wait is not delivery.) Each message
 * carries its number, so the receiver knows which one it got. With
 * RECV_PORT, the receivers wait on that server (another instance on the
 * same database) while the sends go through PORT.
 *
 * Delivery latency = from just before the send's request is written to
 * just after the receiver has read the whole answer to its GET (both
 * CLOCK_MONOTONIC in this process). The send's own answer time (the
 * durable write: commit and fsync) is measured too. Prints one line
 * "JSON {...}" with every sample in microseconds. Plain blocking sockets
 * and threads: the client's own cost is a read() wake-up, a few
 * microseconds.
 */
#include <pthread.h>

#include "httpc.h"

#define WAIT_S 30
#define TIMEOUT_NS (5 * 1000000000LL)

struct rcv {
	const struct hc_user *u;
	pthread_t t;
	int fd;
	int armed;		/* its GET is written and not answered */
};

static struct sockaddr_in addr, raddr;	/* sends, receivers */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int64_t *t_sent, *t_got;
static long count;
static long dup_got;		/* a message seen twice (not acknowledged) */
static long bad_answers;	/* receivers' GET or ack not 200 */

/* The number in "lat-NNNNNN-..." messages of an answer to GET. */
static void
note_messages(const char *body, int64_t now, char *ids, size_t idsize)
{
	const char *p = body, *q;
	size_t used = 0;
	long seq;
	int n;

	ids[0] = '\0';
	while ((p = strstr(p, "\"id\":\"")) != NULL) {
		p += 6;
		n = snprintf(ids + used, idsize - used, "%s\"%.26s\"",
		    used ? "," : "", p);
		if (n > 0 && (size_t)n < idsize - used)
			used += (size_t)n;
		if ((q = strstr(p, "\"message\":\"lat-")) == NULL)
			continue;
		seq = strtol(q + 15, NULL, 10);
		pthread_mutex_lock(&lock);
		if (seq >= 0 && seq < count) {
			if (t_got[seq] != 0)
				dup_got++;
			else
				t_got[seq] = now;
		}
		pthread_cond_broadcast(&changed);
		pthread_mutex_unlock(&lock);
	}
}

static void *
receiver(void *arg)
{
	struct rcv *r = arg;
	struct hc_buf b = { 0 };
	char get[1024], req[8192], json[4096], ids[4000];
	size_t body, blen;
	int glen, status, alen;
	int64_t now;

	glen = hc_format(get, sizeof(get), "GET", "/messages?wait=30&limit=100",
	    r->u->token, NULL);
	for (;;) {
		if (hc_write_all(r->fd, get, (size_t)glen) != 0)
			hc_die("receiver: write");
		pthread_mutex_lock(&lock);
		r->armed = 1;
		pthread_cond_broadcast(&changed);
		pthread_mutex_unlock(&lock);
		status = hc_read_answer(r->fd, &b, &body, &blen);
		now = hc_now_ns();
		pthread_mutex_lock(&lock);
		r->armed = 0;
		pthread_mutex_unlock(&lock);
		if (status < 0)
			hc_die("receiver: read");
		if (status != 200) {
			__atomic_add_fetch(&bad_answers, 1, __ATOMIC_RELAXED);
			continue;
		}
		note_messages(b.p + body, now, ids, sizeof(ids));
		if (ids[0] == '\0')
			continue;
		/* Acknowledged, so that the next GET waits again. */
		snprintf(json, sizeof(json), "{\"ids\":[%s]}", ids);
		alen = hc_format(req, sizeof(req), "POST", "/messages/ack",
		    r->u->token, json);
		if (alen < 0 || hc_write_all(r->fd, req, (size_t)alen) != 0)
			hc_die("receiver: ack");
		if (hc_read_answer(r->fd, &b, &body, &blen) != 200)
			__atomic_add_fetch(&bad_answers, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void
print_samples(const char *name, const int64_t *a, const int64_t *b)
{
	long i;
	int first = 1;

	printf("\"%s\":[", name);
	for (i = 0; i < count; i++) {
		if (a[i] == 0 || b[i] == 0)
			continue;
		printf("%s%.1f", first ? "" : ",", (double)(b[i] - a[i]) / 1e3);
		first = 0;
	}
	printf("]");
}

int
main(int argc, char **argv)
{
	struct hc_user *snd, *rus;
	struct rcv *rv;
	struct hc_buf b = { 0 };
	size_t ns, nr, i, body, blen, size = 200;
	int64_t *t_ans, deadline;
	char *msg, *json, req[8192];
	long seq, lost = 0, send_errors = 0;
	int fd, n, status;
	struct timespec until;

	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: latency HOST PORT SENDERS RECEIVERS "
		    "COUNT [SIZE [RECV_PORT]]\n");
		return 2;
	}
	hc_addr(&addr, argv[1], argv[2]);
	hc_addr(&raddr, argv[1], argc == 8 ? argv[7] : argv[2]);
	snd = hc_users(argv[3], &ns);
	rus = hc_users(argv[4], &nr);
	count = strtol(argv[5], NULL, 10);
	if (argc >= 7)
		size = strtoul(argv[6], NULL, 10);
	if (count <= 0 || size < 16 || size > 4000) {
		fprintf(stderr, "latency: bad COUNT or SIZE\n");
		return 2;
	}
	t_sent = calloc((size_t)count, sizeof(*t_sent));
	t_got = calloc((size_t)count, sizeof(*t_got));
	t_ans = calloc((size_t)count, sizeof(*t_ans));
	rv = calloc(nr, sizeof(*rv));
	msg = malloc(size + 1);
	json = malloc(size + 200);
	if (!t_sent || !t_got || !t_ans || !rv || !msg || !json)
		hc_die("out of memory");

	for (i = 0; i < nr; i++) {
		rv[i].u = &rus[i];
		if ((rv[i].fd = hc_connect(&raddr, 0)) < 0)
			hc_die("connect");
		if (pthread_create(&rv[i].t, NULL, receiver, &rv[i]) != 0)
			hc_die("pthread_create");
	}
	if ((fd = hc_connect(&addr, 0)) < 0)
		hc_die("connect");
	/* Every receiver waiting, and the server has had time to take
	 * their GETs in. */
	pthread_mutex_lock(&lock);
	for (i = 0; i < nr; i++)
		while (!rv[i].armed)
			pthread_cond_wait(&changed, &lock);
	pthread_mutex_unlock(&lock);
	usleep(200000);

	for (seq = 0; seq < count; seq++) {
		struct rcv *r = &rv[seq % (long)nr];

		memset(msg, 'A' + (int)(seq % 26), size);
		n = snprintf(msg, size + 1, "lat-%06ld-", seq);
		msg[n] = 'x';
		msg[size] = '\0';
		snprintf(json, size + 200, "{\"to\":\"%s\",\"message\":\"%s\"}",
		    r->u->name, msg);
		n = hc_format(req, sizeof(req), "POST", "/messages",
		    snd[0].token, json);
		if (n < 0)
			hc_die("request too long");
		/* Its receiver has been waiting since its last message, and
		 * the last message's receiver has acknowledged it (its next
		 * GET is written after the answer to its ack). */
		pthread_mutex_lock(&lock);
		while (!r->armed || (seq > 0 && !rv[(seq - 1) %
		    (long)nr].armed))
			pthread_cond_wait(&changed, &lock);
		pthread_mutex_unlock(&lock);
		t_sent[seq] = hc_now_ns();
		if (hc_write_all(fd, req, (size_t)n) != 0)
			hc_die("send: write");
		status = hc_read_answer(fd, &b, &body, &blen);
		t_ans[seq] = hc_now_ns();
		if (status != 200) {
			if (status < 0)
				hc_die("send: read");
			send_errors++;
			t_sent[seq] = t_ans[seq] = 0;
			continue;
		}
		/* Delivered before the next one goes. */
		deadline = hc_now_ns() + TIMEOUT_NS;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += TIMEOUT_NS / 1000000000;
		pthread_mutex_lock(&lock);
		while (t_got[seq] == 0 && hc_now_ns() < deadline)
			pthread_cond_timedwait(&changed, &lock, &until);
		if (t_got[seq] == 0)
			lost++;
		pthread_mutex_unlock(&lock);
	}

	pthread_mutex_lock(&lock);
	printf("JSON {\"count\":%ld,\"receivers\":%zu,\"size\":%zu,"
	    "\"lost\":%ld,\"send_errors\":%ld,\"duplicates\":%ld,"
	    "\"bad_answers\":%ld,", count, nr, size, lost, send_errors,
	    dup_got, bad_answers);
	print_samples("deliver_us", t_sent, t_got);
	printf(",");
	print_samples("answer_us", t_sent, t_ans);
	printf("}\n");
	fflush(stdout);
	/* The receivers are still blocked in their long-polls: the process
	 * ends without them. */
	_exit(0);
}
