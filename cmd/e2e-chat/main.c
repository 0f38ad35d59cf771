/*
 * e2e-chat - one conversation with one contact, in the terminal.
 *
 * Three threads: this one owns the terminal (libedit, in its callback
 * mode, multiplexed with the others' events in one poll loop); a
 * receiver long-polls the server for the contact's messages, opens and
 * judges each (keys/stream.h) and hands it over; a sender seals and
 * sends the lines typed, one at a time. Each network thread has its own
 * client (a curl handle is not shared). The threads talk through one
 * queue of events, guarded by a mutex, and a pipe that wakes the poll.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <editline/readline.h>

#include "base/cli.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"
#include "base/jsonio.h"
#include "base/term.h"
#include "format/crypto.h"
#include "format/jwk.h"
#include "format/keyfile.h"
#include "keys/prekeys.h"
#include "keys/stream.h"
#include "keys/trust.h"
#include "net/api.h"
#include "net/chat.h"
#include "net/chatlog.h"
#include "net/client.h"
#include "net/prekeydir.h"

#define HISTORY_DEFAULT 20
#define HISTORY_MAX 100000
#define FILE_DEFAULT_MAX ((size_t)16 << 20)
/* Longest long-poll: below e2e-server's default --max-wait. */
#define POLL_S 25
/* A lost connection is tried again after 1, 2, 4 ... up to this. */
#define BACKOFF_MAX_S 8
#define PAGE 100
/* The prekey stock topped up after one-time prekeys were used: at most
 * once in this many seconds, or at once when so many were used that
 * the server's stock may be under half. */
#define REFILL_EVERY_S 600
#define REFILL_USED (PREKEYS_BATCH / 2)

enum ev_kind {
	EV_MESSAGE,	/* from the contact, opened: text or a file saved */
	EV_REFUSED,	/* from the contact, refused: why */
	EV_OTHER,	/* someone else wrote: left for e2e-recv */
	EV_SENT,	/* a line of mine is on the server */
	EV_SEND_FAILED,	/* ... is not: why, and /retry */
	EV_DOWN,	/* the connection is lost: why, next try */
	EV_UP,		/* ... is back */
	EV_FATAL,	/* the receiver stopped: why */
};

struct event {
	struct event *next;
	enum ev_kind kind;
	int64_t t;
	int verified;
	char *text;		/* escaped: safe on a terminal */
	char *note;		/* a warning, an error, a hint (escaped) */
	struct job *job;	/* EV_SENT, EV_SEND_FAILED */
	unsigned long seq;	/* the receiver waits until shown */
};

struct job {
	struct job *next;
	struct buf pt;		/* the plaintext to send (secret) */
	char *shown;		/* what "me>" shows (escaped) */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct event *ev_head, **ev_tail;
	struct job *job_head, **job_tail;
	unsigned long posted, shown;	/* receiver's events */
	int wake[2];
	volatile sig_atomic_t stop;
} q = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.wake = { -1, -1 },
};

static volatile sig_atomic_t quit_signal;

/* What the threads share, read-only once they run. */
static struct chat_keys keys;
static struct client c_recv, c_send;
static struct open_opts oo;
static struct trust *trust;
/* My private prekeys (forward secrecy), the receiver's once the threads
 * run (read again after a top-up); a shown message's one-time prekey is
 * marked used in the file. */
static struct prekeys *prekeys;
static struct prekeys_view prekeys_view;
static int64_t fs_grace = PREKEYS_GRACE_DEFAULT;
/* The receiver's: one-time prekeys used since its last top-up, when. */
static size_t fs_used;
static int64_t last_refill;
static char downloads[HOME_PATH_MAX];
static const char *peer;

/* The terminal's state, this thread's only. */
static struct chatlog hist;
static int keep_history = 1;
static int pending, offline;
static struct job *failed_head;
static int line_done, quitting;
static int input_drawn;		/* the prompt and the line are on screen */
static int fresh_line;		/* a line was accepted, no key since */
static char prompt[64];
static size_t file_max = FILE_DEFAULT_MAX;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: e2e-chat [--history N | --no-history] [-i PRIVKEY] "
	    "[options] NAME\n"
	    "\n"
	    "A conversation with NAME in the terminal. Each line typed is "
	    "encrypted for\n"
	    "NAME's pinned keys, signed with yours and sent; NAME's messages "
	    "are\n"
	    "decrypted and checked as e2e-decrypt's stream mode does, and "
	    "shown as\n"
	    "HH:MM NAME> text, marked \"?\" with the reason when not "
	    "verified. Your lines\n"
	    "show as HH:MM me> text once the server has them. Messages from "
	    "others stay\n"
	    "on the server for e2e-recv; a notice says that they wrote.\n"
	    "\n"
	    "Commands: /file PATH (send a file; files received go to "
	    "HOME/downloads),\n"
	    "/verify (the safety number), /retry (send again what failed), "
	    "/help,\n"
	    "/quit (or Ctrl-D). A line starting with // sends the line "
	    "without one /.\n"
	    "\n"
	    "      --history N          show the last N messages of the "
	    "local history\n"
	    "                           (default %d)\n"
	    "      --no-history         keep no history on disk (and show "
	    "none)\n"
	    "  -i, --identity PRIVKEY   your private key (default: the "
	    "config's identity)\n"
	    "      --passphrase-file FILE\n"
	    "                           passphrase of a protected PRIVKEY "
	    "(else\n"
	    "                           E2E_PASSPHRASE, else the terminal)\n"
	    "      --max-file SIZE      the largest file sent or received "
	    "(default 16M)\n"
	    "  -h, --help               show this help\n"
	    "  -V, --version            show the version\n"
	    "\n%s\n"
	    "It needs a terminal: in a script, use e2e-encrypt | e2e-send "
	    "and\n"
	    "e2e-recv | e2e-decrypt.\n"
	    "\n%s\n"
	    "Examples:\n"
	    "  e2e-chat bob\n"
	    "  e2e-chat --no-history --server https://chat.example bob\n",
	    HISTORY_DEFAULT, client_options_help, client_exit_codes_help);
}

/* ---- the queues ---- */

static void
wake_main(void)
{
	ssize_t w;

	do
		w = write(q.wake[1], "x", 1);
	while (w < 0 && errno == EINTR);
}

static void
on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	quit_signal = 1;
	q.stop = 1;
	if (q.wake[1] >= 0)
		(void)!write(q.wake[1], "x", 1);
	errno = saved;
}

static struct event *
event_new(enum ev_kind kind)
{
	struct event *e = calloc(1, sizeof(*e));

	if (e != NULL) {
		e->kind = kind;
		e->t = (int64_t)time(NULL);
	}
	return e;
}

/* Hands e to the terminal; returns its number. */
static unsigned long
post(struct event *e)
{
	unsigned long seq;

	pthread_mutex_lock(&q.mu);
	e->seq = seq = ++q.posted;
	*q.ev_tail = e;
	q.ev_tail = &e->next;
	pthread_mutex_unlock(&q.mu);
	wake_main();
	return seq;
}

/* An event that only says something (escaped here). */
static void
post_text(enum ev_kind kind, const char *text)
{
	struct event *e = event_new(kind);
	struct buf b = BUF_INIT;

	if (e == NULL)
		return;
	if (chat_escape((const uint8_t *)text, strlen(text), &b) == 0)
		e->text = (char *)b.p;
	else
		buf_free(&b);
	post(e);
}

/* The report's lines, one text (its error or first line, then hints). */
static void
post_report(enum ev_kind kind, const struct report *rep)
{
	char text[REPORT_LINES * (REPORT_TEXT + 8)];
	size_t n = 0;
	int i;

	text[0] = '\0';
	for (i = 0; i < rep->nlines && n < sizeof(text); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s%s",
		    i > 0 ? "\n" : "", rep->line[i].level == REPORT_HINT ?
		    "hint: " : "", rep->line[i].text);
	post_text(kind, text);
}

/* Waits until the terminal has shown the receiver's event seq. */
static void
wait_shown(unsigned long seq)
{
	pthread_mutex_lock(&q.mu);
	while (q.shown < seq && !q.stop)
		pthread_cond_wait(&q.cond, &q.mu);
	pthread_mutex_unlock(&q.mu);
}

/* Sleeps s seconds, or less when stopping. */
static void
pause_s(long s)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += s;
	pthread_mutex_lock(&q.mu);
	while (!q.stop && pthread_cond_timedwait(&q.cond, &q.mu,
	    &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&q.mu);
}

/* ---- the receiver ---- */

/* One of the contact's messages: opened, judged, shown, then its jti
 * remembered (trust_shown). 1 when it may be acknowledged. */
static int
receive_one(const json_t *jm)
{
	struct report item = { 0 };
	struct record r;
	struct message m;
	struct event *e;
	struct buf b = BUF_SECRET_INIT;
	char warning[512];
	int rc;

	chat_record(jm, &r);
	rc = stream_open_record(trust, &oo, 1, &r, &m, warning,
	    sizeof(warning), &item);
	if (rc != 0) {
		post_report(EV_REFUSED, &item);
		/* A refused message was shown as refused: it is dealt with
		 * (e2e-recv would have acknowledged it too). */
		return rc == E2E_EX_DATAERR;
	}
	/* Not shown, not acknowledged: the next run gets it again. */
	if ((e = event_new(EV_MESSAGE)) == NULL ||
	    chat_present(&m, peer, downloads, file_max, &b, &item) != 0) {
		free(e);
		buf_free(&b);
		message_free(&m);
		return 0;
	}
	e->t = r.sent_at;
	e->verified = m.verified;
	e->text = (char *)b.p;
	b = (struct buf)BUF_INIT;
	/* What chat_present said (a file not saved) is in the text. */
	report_clear(&item);
	if (warning[0] != '\0' && chat_escape((const uint8_t *)warning,
	    strlen(warning), &b) == 0)
		e->note = (char *)b.p;
	wait_shown(post(e));
	(void)trust_shown(trust, r.from, r.id, &m, &item);
	/* Shown: its one-time prekey goes after the grace (as e2e-decrypt). */
	if (m.fs == JWE_FS_ONE_TIME) {
		(void)prekeys_used(c_recv.home, m.fs_pkid, crypto_now(),
		    fs_grace, &item);
		fs_used++;
	}
	if (report_said(&item))
		post_report(EV_REFUSED, &item);
	message_free(&m);
	return 1;
}

/* Someone else wrote: said once per page, with how many from whom;
 * their messages stay on the server. */
static void
notice_others(json_t *others)
{
	char text[1024];

	chat_others_text(others, text, sizeof(text));
	if (text[0] != '\0')
		post_text(EV_OTHER, text);
	json_object_clear(others);
}

/*
 * The receiver's top-up of my prekey stock (as e2e-recv's): on the
 * receiver's thread and its client, never the terminal's, and never
 * under the store's lock over the network (prekeydir_refill). With the
 * key this chat opened (a protected one too: its passphrase was asked
 * at start), whose prekeys it reads. What it published is read again,
 * so that messages to the new prekeys open.
 */
static void
refill(void)
{
	struct report quiet = { 0 };
	struct prekeys *p = NULL;

	fs_used = 0;
	last_refill = crypto_now();
	if (!prekeydir_refill_key(&c_recv, keys.sk) ||
	    prekeys_open(c_recv.home, 0, &p, &quiet) != 0)
		return;
	prekeys_close(prekeys);
	prekeys = p;
	prekeys_view.p = p;
	prekeys_view.ikid = keys.kid;
	oo.prekey = prekeys_lookup;
	oo.prekey_arg = &prekeys_view;
}

static void *
receiver(void *arg)
{
	struct report rep = { 0 };
	const char *acks[PAGE];
	char after[ID_LEN + 1] = "";
	const json_t *mine[PAGE];
	json_t *arr = NULL, *others = json_object();
	long backoff = 1;
	size_t i, n, nmine;
	int rc, down = 0;

	(void)arg;
	if (others == NULL) {
		post_text(EV_FATAL, "out of memory");
		return NULL;
	}
	refill();
	while (!q.stop) {
		json_decref(arr);
		arr = NULL;
		report_clear(&rep);
		rc = api_list(&c_recv, NULL, after[0] ? after : NULL, PAGE,
		    POLL_S, &arr, NULL, &rep);
		if (q.stop)
			break;
		if (rc == E2E_EX_TEMPFAIL) {
			char why[REPORT_TEXT + 64];

			/* Said once; the prompt says it meanwhile. */
			snprintf(why, sizeof(why), "offline: %s; trying again "
			    "every few seconds", report_message(&rep));
			if (!down)
				post_text(EV_DOWN, why);
			down = 1;
			pause_s(backoff);
			backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S :
			    backoff * 2;
			continue;
		}
		if (rc != 0) {
			post_report(EV_FATAL, &rep);
			break;
		}
		if (down)
			post_text(EV_UP, "connected again");
		down = 0;
		backoff = 1;
		n = 0;
		nmine = chat_sort_page(arr, keys.me, peer, after, mine, PAGE,
		    others);
		for (i = 0; i < nmine && !q.stop; i++)
			if (receive_one(mine[i]))
				acks[n++] = json_string_value(json_object_get(
				    mine[i], "id"));
		notice_others(others);
		report_clear(&rep);
		if (n > 0 && api_ack(&c_recv, acks, n, &rep) != 0 && !q.stop)
			post_report(EV_REFUSED, &rep);
		if (!q.stop && fs_used > 0 && (fs_used >= REFILL_USED ||
		    crypto_now() - last_refill >= REFILL_EVERY_S))
			refill();
	}
	json_decref(arr);
	json_decref(others);
	return NULL;
}

/* ---- the sender ---- */

static void *
sender(void *arg)
{
	struct report rep = { 0 };
	struct buf env = BUF_INIT;
	struct event *e;
	struct job *j;
	char id[ID_LEN + 1];
	int rc, fs = 0, fs_said = 0;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&q.mu);
		while (q.job_head == NULL && !q.stop)
			pthread_cond_wait(&q.cond, &q.mu);
		if (q.stop) {
			pthread_mutex_unlock(&q.mu);
			break;
		}
		j = q.job_head;
		if ((q.job_head = j->next) == NULL)
			q.job_tail = &q.job_head;
		pthread_mutex_unlock(&q.mu);
		j->next = NULL;
		report_clear(&rep);
		buf_clear(&env);
		if ((rc = chat_keys_unchanged(&keys, &rep)) == 0 &&
		    (rc = chat_seal(&keys, &c_send, j->pt.p, j->pt.len, &env,
		    &fs, &rep)) == 0)
			rc = api_send(&c_send, peer, (const char *)env.p,
			    env.len, 0, id, &rep);
		if ((e = event_new(rc == 0 ? EV_SENT : EV_SEND_FAILED)) ==
		    NULL)
			continue;	/* the job is lost with the memory */
		e->job = j;
		if (rc != 0) {
			struct buf b = BUF_INIT;
			char text[REPORT_LINES * (REPORT_TEXT + 8)];
			size_t n = 0;
			int i;

			text[0] = '\0';
			for (i = 0; i < rep.nlines && n < sizeof(text); i++)
				n += (size_t)snprintf(text + n, sizeof(text) -
				    n, "%s%s%s", i > 0 ? "\n" : "",
				    rep.line[i].level == REPORT_HINT ?
				    "hint: " : "", rep.line[i].text);
			if (chat_escape((const uint8_t *)text, n, &b) == 0)
				e->note = (char *)b.p;
		}
		/* The conversation marked when it stops being forward
		 * secret (said again once it was and is no more). */
		if (rc == 0 && !fs && !fs_said) {
			e->note = strdup("not forward secret: no prekey of "
			    "the contact could be claimed (RSA-OAEP-256)");
			fs_said = 1;
		} else if (rc == 0 && fs) {
			fs_said = 0;
		}
		post(e);
	}
	buf_free(&env);
	return NULL;
}

/* ---- the terminal ---- */

static void
set_prompt(void)
{
	int n = 0;

	prompt[0] = '\0';
	if (offline)
		n += snprintf(prompt + n, sizeof(prompt) - (size_t)n,
		    "[offline] ");
	if (pending > 0)
		n += snprintf(prompt + n, sizeof(prompt) - (size_t)n,
		    "[sending %d] ", pending);
	snprintf(prompt + n, sizeof(prompt) - (size_t)n, "> ");
}

static void
hhmm(int64_t t, char out[6])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		memcpy(out, "--:--", 6);
	else
		strftime(out, 6, "%H:%M", &tm);
}

/*
 * Writes text above the line being edited, which is then drawn again as
 * it was: what arrives while the user types never breaks the line.
 * Each line of text after the first is indented by indent spaces.
 */
/* The columns text (n bytes) takes on the terminal. */
static size_t
text_width(const char *text, size_t n)
{
	mbstate_t st;
	wchar_t wc;
	size_t w = 0, k;
	int cw;

	memset(&st, 0, sizeof(st));
	while (n > 0) {
		k = mbrtowc(&wc, text, n, &st);
		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&st, 0, sizeof(st));
			k = 1;
			cw = 1;
		} else {
			if (k == 0)
				k = 1;
			cw = wcwidth(wc);
		}
		w += cw > 0 ? (size_t)cw : 0;
		text += k;
		n -= k;
	}
	return w;
}

/* Erases the prompt and the line being edited (all the rows of a long
 * one), the cursor left at the start of its first row. */
static void
erase_input(void)
{
	struct winsize ws;
	size_t cols = 80, w;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		cols = ws.ws_col;
	w = text_width(prompt, strlen(prompt));
	if (!fresh_line && rl_line_buffer != NULL && rl_point > 0)
		w += text_width(rl_line_buffer, (size_t)rl_point);
	if (w / cols > 0)
		printf("\033[%zuA", w / cols);
	fputs("\r\033[J", stdout);
}

/* Draws the prompt and the line being edited again, as they were. */
static void
redraw(void)
{
	if (quitting)
		return;
	if (input_drawn)
		erase_input();
	set_prompt();
	rl_set_prompt(prompt);
	/* Right after a line, libedit still holds it until the next key:
	 * the new line is empty, and only the prompt is drawn. */
	if (fresh_line)
		fputs(prompt, stdout);
	else
		rl_forced_update_display();
	fflush(stdout);
	input_drawn = 1;
}

/*
 * Writes text where the line being edited was; redraw() then draws it
 * again below: what arrives while the user types never breaks the line.
 * Each line of text after the first is indented by indent spaces.
 */
static void
show(const char *head, const char *text, int indent)
{
	const char *p = text, *nl;

	if (input_drawn)
		erase_input();
	fputs(head, stdout);
	for (;;) {
		nl = strchr(p, '\n');
		fwrite(p, 1, nl != NULL ? (size_t)(nl - p) : strlen(p), stdout);
		fputs("\r\n", stdout);
		if (nl == NULL)
			break;
		printf("%*s", indent, "");
		p = nl + 1;
	}
	input_drawn = 0;
}

/* A line of the conversation: shown, and kept in the history. */
static void
say_message(int64_t t, const char *who, const char *text, const char *mark,
    int verified)
{
	char head[96], tm[6];
	struct report rep = { 0 };

	hhmm(t, tm);
	snprintf(head, sizeof(head), "%s %s%s> ", tm, who, verified ? "" :
	    "?");
	show(head, text, 6);
	if (mark != NULL) {
		snprintf(head, sizeof(head), "      (%s: ", verified ? "note" :
		    "not verified");
		/* The reason on its own line, closed. */
		{
			struct buf b = BUF_INIT;

			if (buf_append_str(&b, mark) == 0 &&
			    buf_append_str(&b, ")") == 0 &&
			    buf_terminate(&b) == 0)
				show(head, (const char *)b.p, 8);
			buf_free(&b);
		}
	}
	if (keep_history && hist.fd >= 0 && chatlog_add(&hist, t, who, text,
	    mark != NULL && !verified ? mark : NULL, &rep) != 0) {
		show("-- ", report_message(&rep), 3);
		show("-- ", "the history is no longer kept", 3);
		keep_history = 0;
	}
}

static void
say(const char *text)
{
	show("-- ", text, 3);
}

/* A plaintext shown: wiped before it is freed. */
static void
free_text(char *text)
{
	if (text != NULL)
		wipe(text, strlen(text));
	free(text);
}

static void
free_job(struct job *j)
{
	if (j == NULL)
		return;
	buf_free(&j->pt);
	free_text(j->shown);
	free(j);
}

static void
handle_event(struct event *e)
{
	switch (e->kind) {
	case EV_MESSAGE:
		say_message(e->t, peer, e->text ? e->text : "(out of memory)",
		    e->note, e->verified);
		break;
	case EV_REFUSED:
		show("!! ", e->text ? e->text : "a message was refused", 3);
		break;
	case EV_OTHER:
		show("-- ", e->text ? e->text : "someone else wrote", 3);
		break;
	case EV_SENT:
		pending--;
		say_message(e->t, "me", e->job->shown, e->note, 1);
		free_job(e->job);
		break;
	case EV_SEND_FAILED:
		pending--;
		show("!! not sent: ", e->job->shown, 13);
		if (e->note != NULL)
			show("   ", e->note, 3);
		show("   ", "type /retry to send it again", 3);
		e->job->next = failed_head;
		failed_head = e->job;
		break;
	case EV_DOWN:
		offline = 1;
		say(e->text ? e->text : "offline");
		break;
	case EV_UP:
		offline = 0;
		say(e->text ? e->text : "connected again");
		break;
	case EV_FATAL:
		show("!! ", e->text ? e->text : "the receiver stopped", 3);
		say("no more messages can be received: /quit, and start "
		    "again");
		break;
	}
	free_text(e->text);
	free(e->note);
	free(e);
}

/* What the other threads handed over, in order. */
static void
drain_events(void)
{
	struct event *e;
	char junk[64];
	unsigned long seq;
	int receiver_event;

	while (read(q.wake[0], junk, sizeof(junk)) > 0)
		;
	for (;;) {
		pthread_mutex_lock(&q.mu);
		if ((e = q.ev_head) != NULL &&
		    (q.ev_head = e->next) == NULL)
			q.ev_tail = &q.ev_head;
		pthread_mutex_unlock(&q.mu);
		if (e == NULL)
			break;
		seq = e->seq;
		receiver_event = e->kind != EV_SENT &&
		    e->kind != EV_SEND_FAILED;
		handle_event(e);
		redraw();
		if (receiver_event) {
			pthread_mutex_lock(&q.mu);
			if (seq > q.shown)
				q.shown = seq;
			pthread_cond_broadcast(&q.cond);
			pthread_mutex_unlock(&q.mu);
		}
	}
}

static void
queue_job(struct job *j)
{
	pthread_mutex_lock(&q.mu);
	*q.job_tail = j;
	q.job_tail = &j->next;
	pthread_cond_broadcast(&q.cond);
	pthread_mutex_unlock(&q.mu);
	pending++;
}

/* A job for pt (taken) shown as shown. */
static void
send_bytes(struct buf *pt, const char *shown)
{
	struct job *j = calloc(1, sizeof(*j));
	struct buf b = BUF_INIT;

	if (j == NULL || chat_escape((const uint8_t *)shown, strlen(shown),
	    &b) != 0) {
		free(j);
		buf_free(&b);
		buf_free(pt);
		say("out of memory: not sent");
		return;
	}
	j->pt = *pt;
	*pt = (struct buf)BUF_SECRET_INIT;
	j->shown = (char *)b.p;
	queue_job(j);
}

static void
cmd_file(const char *path)
{
	struct report rep = { 0 };
	struct buf data = BUF_SECRET_INIT, pt = BUF_SECRET_INIT;
	char shown[HOME_PATH_MAX + 64];

	while (*path == ' ')
		path++;
	if (*path == '\0') {
		say("/file needs a PATH");
		return;
	}
	if (file_read(path, file_max, "file", &data, &rep) != 0 ||
	    chat_file_wrap(path, data.p, data.len, &pt, &rep) != 0) {
		show("!! ", report_message(&rep), 3);
		goto out;
	}
	snprintf(shown, sizeof(shown), "[file %s, %zu bytes]", path, data.len);
	send_bytes(&pt, shown);
out:
	buf_free(&data);
	buf_free(&pt);
}

static void
cmd_verify(void)
{
	struct report rep = { 0 };
	char number[SAFETY_NUMBER_SIZE], text[256];

	if (chat_safety(&keys, number, &rep) != 0) {
		show("!! ", report_message(&rep), 3);
		return;
	}
	snprintf(text, sizeof(text), "safety number of you (%s) and %s:\n%s\n"
	    "compare it with the one %s sees (e2e-chat %s, /verify; or "
	    "e2e-keys show %s)", keys.me, peer, number, peer, keys.me,
	    keys.me);
	say(text);
}

static void
cmd_retry(void)
{
	struct job *j, *next, *rev = NULL;

	if (failed_head == NULL) {
		say("nothing to send again");
		return;
	}
	/* The oldest first, as they were typed. */
	for (j = failed_head; j != NULL; j = next) {
		next = j->next;
		j->next = rev;
		rev = j;
	}
	failed_head = NULL;
	for (j = rev; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		queue_job(j);
	}
}

static void
cmd_help(void)
{
	say("/file PATH   send a file (received files go to the downloads "
	    "folder)\n"
	    "/verify      show the safety number, to compare with your "
	    "contact's\n"
	    "/retry       send again the lines that could not be sent\n"
	    "/quit        leave (also Ctrl-D)\n"
	    "//text       send a line that starts with /");
}

/* libedit leaves the line accepted on the screen, the cursor below it:
 * it goes, since "me>" shows it once sent. */
static void
erase_accepted(const char *line)
{
	struct winsize ws;
	size_t cols = 80, w;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		cols = ws.ws_col;
	w = text_width(prompt, strlen(prompt)) + text_width(line,
	    strlen(line));
	printf("\r\033[%zuA\033[J", w / cols + 1);
}

/* libedit's callback: one whole line (NULL: end of input). */
static void
on_line(char *line)
{
	struct buf pt = BUF_SECRET_INIT;

	line_done = 1;
	input_drawn = 0;
	fresh_line = 1;
	if (line == NULL) {
		quitting = 1;
		return;
	}
	erase_accepted(line);
	if (line[0] != '\0')
		add_history(line);
	if (strcmp(line, "/quit") == 0) {
		quitting = 1;
	} else if (strncmp(line, "/file", 5) == 0 && (line[5] == ' ' ||
	    line[5] == '\0')) {
		cmd_file(line + 5);
	} else if (strcmp(line, "/verify") == 0) {
		cmd_verify();
	} else if (strcmp(line, "/retry") == 0) {
		cmd_retry();
	} else if (strcmp(line, "/help") == 0) {
		cmd_help();
	} else if (line[0] == '/' && line[1] != '/') {
		say("unknown command; /help lists them");
	} else if (line[0] != '\0') {
		const char *text = line[0] == '/' ? line + 1 : line;

		if (buf_append_str(&pt, text) != 0)
			say("out of memory: not sent");
		else
			send_bytes(&pt, text);
	}
	buf_free(&pt);
	wipe(line, strlen(line));
	free(line);
}

/* The last messages of the local history. */
static void
show_history(unsigned long n)
{
	struct report rep = { 0 };
	struct buf b = BUF_INIT;
	char head[96], tm[6];
	json_t *arr, *o;
	const char *who, *text, *mark;
	size_t i;

	if (chatlog_tail(&hist, n, &arr, &rep) != 0) {
		show("!! ", report_message(&rep), 3);
		return;
	}
	json_array_foreach(arr, i, o) {
		who = json_string_value(json_object_get(o, "who"));
		text = json_string_value(json_object_get(o, "text"));
		mark = json_string_value(json_object_get(o, "mark"));
		hhmm(json_integer_value(json_object_get(o, "t")), tm);
		buf_clear(&b);
		/* Escaped when written; again, in case the file was not. */
		if (chat_escape((const uint8_t *)who, strlen(who), &b) != 0)
			break;
		snprintf(head, sizeof(head), "%s %.40s%s> ", tm, (char *)b.p,
		    mark != NULL ? "?" : "");
		buf_clear(&b);
		if (chat_escape((const uint8_t *)text, strlen(text), &b) != 0)
			break;
		show(head, (const char *)b.p, 6);
	}
	if (json_array_size(arr) > 0)
		say("(history)");
	buf_free(&b);
	json_decref(arr);
}

static int
run_terminal(unsigned long history)
{
	struct pollfd fds[2];
	char intro[256];

	set_prompt();
	rl_catch_signals = 0;
	rl_callback_handler_install(prompt, on_line);
	input_drawn = 1;
	if (keep_history && history > 0)
		show_history(history);
	snprintf(intro, sizeof(intro), "chat with %s (%zu key%s pinned); "
	    "/help for commands", peer, keys.peer.n, keys.peer.n == 1 ? "" :
	    "s");
	say(intro);
	redraw();
	fds[0].fd = STDIN_FILENO;
	fds[0].events = POLLIN;
	fds[1].fd = q.wake[0];
	fds[1].events = POLLIN;
	while (!quitting && !quit_signal) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents & POLLIN)
			drain_events();
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			line_done = 0;
			rl_callback_read_char();
			/* After a line, the prompt is drawn afresh, once (with
			 * what the line changed in it). */
			if (line_done && !quitting) {
				rl_callback_handler_remove();
				fputs("\r\033[K", stdout);
				set_prompt();
				rl_callback_handler_install(prompt, on_line);
				fflush(stdout);
				input_drawn = 1;
				/* rl_point and rl_line_buffer keep the old line
				 * until the next key. */
				fresh_line = 1;
			} else {
				input_drawn = 1;
				fresh_line = 0;
			}
		}
	}
	rl_callback_handler_remove();
	fputs("\r\n", stdout);
	fflush(stdout);
	return 0;
}

/* What is left in the queues once the threads are stopped. */
static void
free_queues(void)
{
	struct event *e;
	struct job *j;

	while ((e = q.ev_head) != NULL) {
		q.ev_head = e->next;
		if (e->job != NULL)
			free_job(e->job);
		free_text(e->text);
		free(e->note);
		free(e);
	}
	while ((j = q.job_head) != NULL) {
		q.job_head = j->next;
		free_job(j);
	}
	while ((j = failed_head) != NULL) {
		failed_head = j->next;
		free_job(j);
	}
}

/* Stops the network threads and waits for them. */
static void
stop_threads(pthread_t *th, int n)
{
	int i;

	pthread_mutex_lock(&q.mu);
	q.stop = 1;
	pthread_cond_broadcast(&q.cond);
	pthread_mutex_unlock(&q.mu);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

int
main(int argc, char **argv)
{
	static const char shortopts[] = ":i:vhV";
	static const struct option longopts[] = {
		CLIENT_LONGOPTS,
		{ "history", required_argument, NULL, 'H' },
		{ "no-history", no_argument, NULL, 'N' },
		{ "identity", required_argument, NULL, 'i' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "max-file", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct client_opts co = CLIENT_OPTS_INIT, co_recv;
	struct passphrase_src ps = { NULL, NULL };
	struct report rep = { 0 };
	struct sigaction sa;
	char identity[HOME_PATH_MAX];
	const char *key_path = NULL;
	unsigned long long history = HISTORY_DEFAULT;
	pthread_t th[2];
	int ch, rc, nth = 0, seen_H = 0, seen_i = 0, seen_P = 0, seen_M = 0;
	int started = 0;

	memset(&keys, 0, sizeof(keys));
	hist.fd = -1;
	if ((rc = client_tool_start(&co, argc, argv, shortopts, longopts,
	    err_print, err_trace, &rep)) != 0)
		return err_print(&rep);
	while ((ch = client_getopt(&co, argc, argv, shortopts, longopts,
	    &rep)) != -1) {
		switch (ch) {
		case CLIENT_OPT_FAILED:
			return err_print(&rep);
		case 'H':
			if (cli_once(&seen_H, "--history", &rep) != 0 ||
			    cli_parse_number("--history", optarg, 0,
			    HISTORY_MAX, &history, &rep) != 0)
				return err_print(&rep);
			break;
		case 'N':
			keep_history = 0;
			break;
		case 'i':
			if (cli_once(&seen_i, "-i", &rep) != 0)
				return err_print(&rep);
			key_path = optarg;
			break;
		case 'P':
			if (cli_once(&seen_P, "--passphrase-file", &rep) != 0)
				return err_print(&rep);
			ps.file = optarg;
			break;
		case 'M':
			if (cli_once(&seen_M, "--max-file", &rep) != 0 ||
			    cli_parse_size_in("--max-file", optarg, 1,
			    FILEIO_MAX_MAX / 2, "is at most 512M", &file_max,
			    &rep) != 0)
				return err_print(&rep);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			cli_version();
			return 0;
		default:
			cli_bad_option(ch, argv, &rep);
			return err_print(&rep);
		}
	}
	/* The HTTP exchange goes to standard error: on the conversation's
	 * own terminal it would write over the lines being typed. */
	if (co.verbose && isatty(STDERR_FILENO))
		return err_print(cli_usage_error(&rep, "-v writes the HTTP "
		    "exchange to standard error, here the conversation's "
		    "terminal: redirect it (2>FILE)"));
	if (!keep_history && seen_H)
		return err_print(cli_usage_error(&rep, "--history and "
		    "--no-history contradict each other"));
	if (optind + 1 != argc)
		return err_print(cli_usage_error(&rep, optind == argc ?
		    "whom to chat with? give NAME" : "one NAME only"));
	peer = argv[optind];
	if (cli_user_name(NULL, peer, &rep) != 0)
		return err_print(&rep);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		err_error("e2e-chat needs a terminal (standard input and "
		    "output)");
		err_hint("in a script, send with: e2e-encrypt -r %s | "
		    "e2e-send --to %s", peer, peer);
		err_hint("and receive with: e2e-recv --from %s | e2e-decrypt",
		    peer);
		return E2E_EX_USAGE;
	}
	setlocale(LC_ALL, "");

	/* Two clients: one for each network thread. The receiver says
	 * itself that the connection is lost, and tries again. */
	co_recv = co;
	co_recv.retry_s = 0;
	co.stop = co_recv.stop = &q.stop;
	started = 1;
	if ((rc = client_start(&c_send, &co, CLIENT_NEED_SESSION, &rep)) != 0 ||
	    (rc = client_start(&c_recv, &co_recv, CLIENT_NEED_SESSION,
	    &rep)) != 0)
		goto out;
	err_print(&rep);
	report_clear(&rep);
	keys.me = c_send.sess.name;
	if (strcmp(peer, keys.me) == 0) {
		rc = err_print(cli_usage_error(&rep, "that is you: chat with "
		    "someone else"));
		goto out;
	}
	if (key_path == NULL) {
		rc = config_identity_path(identity, sizeof(identity), &rep);
		if (rc > 0)
			goto out;
		if (rc < 0) {
			report_error(&rep, E2E_EX_USAGE, "no private key");
			report_hint(&rep, "give it with -i PRIVKEY, or name it "
			    "once in the client's config file: identity = "
			    "PATH");
			rc = E2E_EX_USAGE;
			goto out;
		}
		key_path = identity;
	}
	if ((rc = crypto_init(&rep)) != 0 ||
	    (rc = keyfile_load_private(key_path, &ps, &keys.sk, &rep)) != 0 ||
	    (rc = jwk_thumbprint(keys.sk, keys.kid, &rep)) != 0)
		goto out;
	err_print(&rep);
	report_clear(&rep);
	/* The contact's keys, compared with the directory first (e2e-keys
	 * fetch): a changed key is refused here, loudly, as e2e-encrypt
	 * refuses it. */
	if ((rc = contact_resolve(peer, CONTACT_REFRESH | CONTACT_BY_NAME,
	    &keys.peer, &rep)) != 0)
		goto out;
	err_print(&rep);
	report_clear(&rep);
	memset(&oo, 0, sizeof(oo));
	oo.key = keys.sk;
	oo.kid = keys.kid;
	if ((rc = chat_prekeys_open(&c_recv, &prekeys, &fs_grace, &rep)) != 0)
		goto out;
	if (prekeys != NULL) {
		prekeys_view.p = prekeys;
		prekeys_view.ikid = keys.kid;
		oo.prekey = prekeys_lookup;
		oo.prekey_arg = &prekeys_view;
	}
	if ((rc = trust_open(keys.me, keys.kid, &trust, &rep)) != 0)
		goto out;
	err_print(&rep);
	report_clear(&rep);
	if ((rc = home_file(c_send.home, "downloads", downloads,
	    sizeof(downloads), &rep)) != 0)
		goto out;
	if (keep_history && (rc = chatlog_open(&hist, c_send.home, peer,
	    &rep)) != 0)
		goto out;
	err_print(&rep);
	report_clear(&rep);

	if (pipe(q.wake) != 0) {
		rc = report_errno(&rep, E2E_EX_SOFTWARE, "pipe");
		goto out;
	}
	if (fcntl(q.wake[0], F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(q.wake[1], F_SETFL, O_NONBLOCK) != 0) {
		rc = report_errno(&rep, E2E_EX_SOFTWARE, "fcntl");
		goto out;
	}
	q.ev_tail = &q.ev_head;
	q.job_tail = &q.job_head;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (pthread_create(&th[nth], NULL, receiver, NULL) != 0) {
		rc = report_error(&rep, E2E_EX_SOFTWARE, "cannot start a "
		    "thread");
		goto out;
	}
	nth++;
	if (pthread_create(&th[nth], NULL, sender, NULL) != 0) {
		rc = report_error(&rep, E2E_EX_SOFTWARE, "cannot start a "
		    "thread");
		goto out;
	}
	nth++;
	rc = run_terminal(history);
	{
		struct job *j;
		int unsent = pending;

		for (j = failed_head; j != NULL; j = j->next)
			unsent++;
		if (unsent > 0)
			report_warn(&rep, "%d line%s not confirmed sent",
			    unsent, unsent == 1 ? " was" : "s were");
	}
out:
	stop_threads(th, nth);
	free_queues();
	if (started) {
		client_end(&c_send);
		client_end(&c_recv);
	}
	err_print(&rep);
	if (trust != NULL)
		trust_close(trust);
	chatlog_close(&hist);
	contact_free(&keys.peer);
	EVP_PKEY_free(keys.sk);
	prekeys_close(prekeys);
	return rc;
}
