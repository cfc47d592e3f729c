/* businessrules.h - the Business Rules shape's parts: the shape (businessrules.c) and the map
 * functions a rule input may hold (businessrules_fn.c). See docs/decisions/020-business-rules.md. */
#ifndef MA_BUSINESSRULES_H
#define MA_BUSINESSRULES_H

#include <libxml/tree.h>

#include "miniatom/shape.h"
#include "profile.h"

typedef struct ma_brfn ma_brfn; /* one compiled function input (owned by its rule) */

/* Compiles <input xsi:type="BusinessRuleFunction"> (its <inputMapping>s and <FunctionStep>) of a
 * rule on profile profile_id. Returns NULL with err: an unsupported function type
 * (MA_ERR_UNSUPPORTED), a missing component it refers to (MA_ERR_REF), malformed XML
 * (MA_ERR_CONFIG). Errors name the function; the caller adds the rule and line. */
ma_brfn *ma_brfn_compile(ma_shape *shape, const char *profile_id, const xmlNode *input, ma_error *err);
void ma_brfn_free(ma_brfn *f);
/* 1 when the function declares an <Output key="key">. */
int ma_brfn_has_output(const ma_brfn *f, const char *key);
/* The profile fields wired into the function (borrowed), for choosing a rule's occurrences. */
size_t ma_brfn_path_count(const ma_brfn *f);
const ma_profile_path *ma_brfn_path(const ma_brfn *f, size_t i);
/* The function's result for doc at occurrence m (malloc'ed), or NULL with err: a document error
 * (a date that does not match its mask, a script that throws, a script host that fails) or out of
 * memory (MA_ERR_NOMEM). A Scripting function's log lines and property writes apply to ex. */
char *ma_brfn_eval(ma_exec *ex, const ma_brfn *f, const ma_doc *doc, const ma_profile_match *m, ma_error *err);

#endif
