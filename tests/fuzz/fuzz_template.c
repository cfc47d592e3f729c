/* fuzz_template.c - libFuzzer target for message templates (runtime/template.c): compiles the input
 * as a Boomi message template and renders it with 3 arguments. Besides memory errors it checks
 * two invariants: a template without ' { or } renders to itself, and a compile error always
 * carries a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* templates are C strings: an embedded NUL ends the text */

    ma_error err;
    ma_error_clear(&err);
    ma_template *t = ma_template_compile(text, &err);
    if (!t) {
        if (err.code == 0 || err.msg[0] == '\0') abort();
        free(text);
        return 0;
    }
    static const char *const args[] = {"first", NULL, "{1}'third'"};
    ma_sb out;
    ma_sb_init(&out);
    if (ma_template_render(t, args, 3, &out) < 0) abort();
    if (ma_template_max_arg(t) < 0) abort();
    if (!strpbrk(text, "'{}") && strcmp(out.s ? out.s : "", text) != 0) abort();
    /* rendering with no arguments leaves every reference as {n} */
    ma_sb_reset(&out);
    if (ma_template_render(t, NULL, 0, &out) < 0) abort();
    ma_sb_free(&out);
    ma_template_free(t);
    free(text);
    return 0;
}
