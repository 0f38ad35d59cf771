/*
 * e2e-chat's pieces without a terminal (lib/net/chat.c, chatlog.c): a
 * file message's name from a stranger made safe, files saved never over
 * another, text escaped for the terminal with its newlines kept, what a
 * message shows, and the history (0600, its last lines, lines that are
 * not its own skipped). The whole program is tests/bats/chat.bats.
 */
#include "harness.h"

#include "base/err.h"
#include "base/term.h"
#include "base/names.h"
#include "net/chat.h"
#include "net/chatlog.h"

/* The name a file message with this name unwraps to, or NULL when it is
 * not one. */
static const char *
unwrapped_name(const char *name, const char *data)
{
	static char out[CHAT_FILE_NAME_MAX + 1];
	struct buf pt = BUF_INIT;
	const uint8_t *d;
	size_t n;
	int is;

	/* Wrapped by hand: chat_file_wrap keeps only the last component. */
	if (buf_append(&pt, CHAT_FILE_MAGIC, sizeof(CHAT_FILE_MAGIC)) != 0 ||
	    buf_append(&pt, name, strlen(name) + 1) != 0 ||
	    buf_append(&pt, data, strlen(data)) != 0)
		exit(2);
	is = chat_file_unwrap(pt.p, pt.len, out, sizeof(out), &d, &n);
	if (is)
		CHECK(n == strlen(data) && memcmp(d, data, n) == 0);
	buf_free(&pt);
	return is ? out : NULL;
}

/* A string for %s, NULL included. */
#define SHOWN(s) ((s) != NULL ? (s) : "(null)")

static void
file_names(void)
{
	struct buf pt = BUF_INIT;
	char name[CHAT_FILE_NAME_MAX + 1], longname[400];
	const uint8_t *d;
	size_t n;
	const char *got;

	CHECK(chat_file_wrap("/some/where/report.pdf", (const uint8_t *)"abc",
	    3, &pt, NULL) == 0);
	CHECK(chat_file_unwrap(pt.p, pt.len, name, sizeof(name), &d, &n) == 1);
	CHECK(strcmp(name, "report.pdf") == 0);
	CHECK(n == 3 && memcmp(d, "abc", 3) == 0);
	buf_free(&pt);
	/* A stranger's names: no path, no hidden file, no control. */
	got = unwrapped_name("../../.bashrc", "x");
	CHECKF(got != NULL && strcmp(got, "bashrc") == 0, "%s", SHOWN(got));
	got = unwrapped_name("a/b/c.txt", "x");
	CHECKF(got != NULL && strcmp(got, "c.txt") == 0, "%s", SHOWN(got));
	got = unwrapped_name("evil\033[2J\nname", "x");
	CHECKF(got != NULL && strcmp(got, "evil__2J_name") == 0, "%s",
	    SHOWN(got));
	got = unwrapped_name("...", "x");
	CHECKF(got != NULL && strcmp(got, "file") == 0, "%s", SHOWN(got));
	got = unwrapped_name("", "");
	CHECKF(got != NULL && strcmp(got, "file") == 0, "%s", SHOWN(got));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	got = unwrapped_name(longname, "x");
	CHECK(got != NULL && strlen(got) == CHAT_FILE_NAME_MAX);
	/* Text is no file; nor is the magic without its name's end. */
	CHECK(chat_file_unwrap((const uint8_t *)"hello", 5, name, sizeof(name),
	    &d, &n) == 0);
	CHECK(chat_file_unwrap((const uint8_t *)CHAT_FILE_MAGIC "\0abc",
	    sizeof(CHAT_FILE_MAGIC) + 3, name, sizeof(name), &d, &n) == 0);
}

static void
save_never_over(void)
{
	char dir[256], dl[300], path[512];
	char *text;

	harness_tmpdir("chat", dir, sizeof(dir));
	snprintf(dl, sizeof(dl), "%s", harness_path(dir, "downloads"));
	CHECK(chat_save_file(dl, "r.pdf", (const uint8_t *)"one", 3, path,
	    sizeof(path), &t_rep) == 0);
	CHECK(strcmp(path, harness_path(dl, "r.pdf")) == 0);
	CHECK(chat_save_file(dl, "r.pdf", (const uint8_t *)"two", 3, path,
	    sizeof(path), &t_rep) == 0);
	CHECK(strcmp(path, harness_path(dl, "r-1.pdf")) == 0);
	CHECK(chat_save_file(dl, "noext", (const uint8_t *)"3", 1, path,
	    sizeof(path), &t_rep) == 0);
	CHECK(chat_save_file(dl, "noext", (const uint8_t *)"4", 1, path,
	    sizeof(path), &t_rep) == 0);
	CHECK(strcmp(path, harness_path(dl, "noext-1")) == 0);
	text = harness_read(harness_path(dl, "r.pdf"));
	CHECK(strcmp(text, "one") == 0);
	free(text);
	CHECK(size_of(harness_path(dl, "r-1.pdf")) == 3);
	/* A link put there is not followed: another name is taken. */
	CHECK(symlink("/etc/passwd", harness_path(dl, "l")) == 0);
	CHECK(chat_save_file(dl, "l", (const uint8_t *)"x", 1, path,
	    sizeof(path), &t_rep) == 0);
	CHECK(strcmp(path, harness_path(dl, "l-1")) == 0);
	{
		struct stat st;

		CHECK(stat(harness_path(dl, "r.pdf"), &st) == 0 &&
		    (st.st_mode & 0777) == 0600);
		CHECK(stat(dl, &st) == 0 && (st.st_mode & 0777) == 0700);
	}
	harness_rmtree(dir);
}

static void
escape(void)
{
	struct buf b = BUF_INIT;

	CHECK(chat_escape((const uint8_t *)"a\033[2Jb\nline 2\n", 14, &b) ==
	    0);
	CHECKF(strcmp((char *)b.p, "a\\x1b[2Jb\nline 2") == 0, "%s",
	    (char *)b.p);
	buf_clear(&b);
	/* UTF-8 stays; a C1 control and a bidi override do not. */
	/* NOLINTNEXTLINE(misc-misleading-bidirectional): the override tested */
	CHECK(chat_escape((const uint8_t *)"\xc3\xa9 \xc2\x9b \xe2\x80\xae",
	    10, &b) == 0);
	CHECKF(term_safe_text(b.p, b.len) && strncmp((char *)b.p,
	    "\xc3\xa9 ", 3) == 0 && strchr((char *)b.p, 0x9b) == NULL &&
	    /* NOLINTNEXTLINE(misc-misleading-bidirectional): tested */
	    strstr((char *)b.p, "\xe2\x80\xae") == NULL, "%s", (char *)b.p);
	buf_clear(&b);
	CHECK(chat_escape((const uint8_t *)"\0x", 2, &b) == 0);
	CHECK(strcmp((char *)b.p, "\\x00x") == 0);
	buf_clear(&b);
	CHECK(chat_escape((const uint8_t *)"", 0, &b) == 0);
	CHECK(b.p != NULL && b.p[0] == '\0');
	buf_free(&b);
}

static void
present(void)
{
	struct message m;
	struct buf out = BUF_INIT, pt = BUF_INIT;
	char dir[256], dl[300], want[600];

	harness_tmpdir("chat", dir, sizeof(dir));
	snprintf(dl, sizeof(dl), "%s", harness_path(dir, "downloads"));
	memset(&m, 0, sizeof(m));
	m.pt = (const uint8_t *)"hi \033]0;x\007";
	m.pt_len = 9;
	CHECK(chat_present(&m, "bob", dl, 100, &out, &t_rep) == 0);
	CHECKF(strcmp((char *)out.p, "hi \\x1b]0;x\\x07") == 0, "%s",
	    (char *)out.p);
	/* Bytes that are no text: a file without a name. */
	buf_clear(&out);
	m.pt = (const uint8_t *)"\xff\xfe";
	m.pt_len = 2;
	CHECK(chat_present(&m, "bob", dl, 100, &out, &t_rep) == 0);
	snprintf(want, sizeof(want), "[file from-bob.bin, 2 bytes, saved as "
	    "%s]", harness_path(dl, "from-bob.bin"));
	CHECKF(strcmp((char *)out.p, want) == 0, "%s", (char *)out.p);
	/* Larger than the cap: said, not saved. */
	buf_clear(&out);
	CHECK(chat_file_wrap("big", (const uint8_t *)"0123456789", 10, &pt,
	    NULL) == 0);
	m.pt = pt.p;
	m.pt_len = pt.len;
	CHECK(chat_present(&m, "bob", dl, 9, &out, &t_rep) == 0);
	CHECK(strstr((char *)out.p, "not saved") != NULL);
	CHECK(size_of(harness_path(dl, "big")) == -1);
	buf_free(&out);
	buf_free(&pt);
	harness_rmtree(dir);
}

static void
sort_page(void)
{
	const json_t *mine[4];
	json_t *page, *others = json_object();
	char after[ID_LEN + 1] = "", text[256];
	size_t n;

	page = json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s},"
	    "{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s}]",
	    "id", "01", "from", "alice", "to", "bob",
	    "id", "02", "from", "carol", "to", "bob",
	    "id", "03", "from", "alice", "to", "bob",
	    "id", "04", "from", "carol", "to", "bob",
	    "id", "05", "from", "alice", "to", "mallory",
	    "id", "06", "from", "dave", "to", "bob");
	n = chat_sort_page(page, "bob", "alice", after, mine, 4, others);
	CHECK(n == 2);
	CHECK(n == 2 && mine[0] == json_array_get(page, 0) &&
	    mine[1] == json_array_get(page, 2));
	/* The cursor passes what is left for e2e-recv. */
	CHECK(strcmp(after, "06") == 0);
	CHECK(json_integer_value(json_object_get(others, "carol")) == 2);
	CHECK(json_integer_value(json_object_get(others, "dave")) == 1);
	CHECK(json_object_get(others, "alice") == NULL);
	chat_others_text(others, text, sizeof(text));
	CHECKF(strcmp(text, "carol (2), dave (1) wrote to you; read it with "
	    "e2e-recv") == 0 || strcmp(text, "dave (1), carol (2) wrote to "
	    "you; read it with e2e-recv") == 0, "%s", text);
	/* At most max kept. */
	json_object_clear(others);
	CHECK(chat_sort_page(page, "bob", "alice", after, mine, 1, others) ==
	    1);
	json_object_clear(others);
	chat_others_text(others, text, sizeof(text));
	CHECK(text[0] == '\0');
	json_decref(page);
	json_decref(others);
}

static void
history(void)
{
	struct chatlog l;
	struct stat st;
	json_t *arr = NULL, *want;
	char dir[256];
	int i;

	harness_tmpdir("chat", dir, sizeof(dir));
	CHECK(chatlog_open(&l, dir, "bob", &t_rep) == 0);
	CHECK(stat(harness_path(dir, "chats/bob"), &st) == 0 &&
	    (st.st_mode & 0777) == 0600);
	CHECK(chatlog_add(&l, 100, "me", "one", NULL, &t_rep) == 0);
	CHECK(chatlog_add(&l, 200, "bob", "two\nlines", "why", &t_rep) == 0);
	/* A line that is not the history's own is skipped. */
	CHECK(write(l.fd, "junk\n{\"t\":\"x\"}\n", 15) == 15);
	CHECK(chatlog_add(&l, 300, "me", "three", NULL, &t_rep) == 0);
	CHECK(chatlog_tail(&l, 2, &arr, &t_rep) == 0);
	CHECK(json_array_size(arr) == 2);
	want = json_pack("{s:i,s:s,s:s,s:s}", "t", 200, "who", "bob", "text",
	    "two\nlines", "mark", "why");
	CHECK(json_equal(json_array_get(arr, 0), want));
	json_decref(want);
	CHECK(json_integer_value(json_object_get(json_array_get(arr, 1),
	    "t")) == 300);
	json_decref(arr);
	CHECK(chatlog_tail(&l, 100, &arr, &t_rep) == 0);
	CHECK(json_array_size(arr) == 3);
	json_decref(arr);
	chatlog_close(&l);
	/* Past CHATLOG_MAX, opening keeps the last half, whole lines. */
	CHECK(chmod(harness_path(dir, "chats/bob"), 0644) == 0);
	CHECK(chatlog_open(&l, dir, "bob", &t_rep) == 0);
	CHECK(stat(harness_path(dir, "chats/bob"), &st) == 0 &&
	    (st.st_mode & 0777) == 0600);
	for (i = 0; (size_t)st.st_size <= CHATLOG_MAX; i++) {
		char text[1024];

		memset(text, 'x', sizeof(text) - 1);
		text[sizeof(text) - 1] = '\0';
		if (chatlog_add(&l, i, "me", text, NULL, &t_rep) != 0 ||
		    fstat(l.fd, &st) != 0)
			break;
	}
	CHECK(chatlog_add(&l, 999999, "me", "last", NULL, &t_rep) == 0);
	chatlog_close(&l);
	CHECK(chatlog_open(&l, dir, "bob", &t_rep) == 0);
	CHECK(fstat(l.fd, &st) == 0 && (size_t)st.st_size <= CHATLOG_MAX / 2 &&
	    st.st_size > 0);
	CHECK(chatlog_tail(&l, 1, &arr, &t_rep) == 0);
	want = json_string("last");
	CHECK(json_array_size(arr) == 1 && json_equal(json_object_get(
	    json_array_get(arr, 0), "text"), want));
	json_decref(want);
	json_decref(arr);
	chatlog_close(&l);
	harness_rmtree(dir);
}

int
main(void)
{
	err_setprog("test_net_chat");
	RUN(file_names);
	RUN(save_never_over);
	RUN(escape);
	RUN(present);
	RUN(sort_page);
	RUN(history);
	return harness_end();
}
