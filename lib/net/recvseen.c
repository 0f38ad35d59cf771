/* recvseen.c - what this run of e2e-recv has seen (see recvseen.h). */
#include "net/recvseen.h"
#include "base/err.h"
#include "base/names.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct recvseen {
	json_t *state;		/* id -> state (an integer) */
	/* The ids in the order they came, to forget the oldest. */
	char (*order)[ID_LEN + 1];
	size_t head, n;
};

struct recvseen *
recvseen_new(void)
{
	struct recvseen *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->state = json_object()) == NULL ||
	    /* Pages of zeros: memory is taken as ids come. */
	    (s->order = calloc(RECVSEEN_MAX, sizeof(*s->order))) == NULL) {
		recvseen_free(s);
		return NULL;
	}
	return s;
}

enum recvseen_state
recvseen_get(const struct recvseen *s, const char *id)
{
	const json_t *v = json_object_get(s->state, id);

	return v != NULL ? (enum recvseen_state)json_integer_value(v) :
	    RECVSEEN_NEW;
}

int
recvseen_set(struct recvseen *s, const char *id, enum recvseen_state st,
    struct report *rep)
{
	json_t *v = json_object_get(s->state, id);
	size_t slot;

	if (v != NULL) {
		json_integer_set(v, st);
		return 0;
	}
	if (strlen(id) != ID_LEN)
		return 0;	/* checked by the caller: never */
	if (s->n == RECVSEEN_MAX) {
		(void)json_object_del(s->state, s->order[s->head]);
		slot = s->head;
		s->head = (s->head + 1) % RECVSEEN_MAX;
	} else {
		slot = (s->head + s->n++) % RECVSEEN_MAX;
	}
	memcpy(s->order[slot], id, ID_LEN + 1);
	if (json_object_set_new(s->state, id, json_integer(st)) != 0)
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	return 0;
}

void
recvseen_free(struct recvseen *s)
{
	if (s == NULL)
		return;
	json_decref(s->state);
	free(s->order);
	free(s);
}
