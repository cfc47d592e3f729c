/* dataprocess_steps.c - the Data Process step kinds that live in their own files
 * (dataprocess_step.h); dataprocess.c looks a <step>'s processtype up here first. */
#include <stddef.h>

#include "dataprocess_step.h"

extern const ma_dp_step_kind ma_dp_pgp_encrypt, ma_dp_pgp_decrypt;             /* dataprocess_pgp.c */
extern const ma_dp_step_kind ma_dp_step_script;                                /* dataprocess_script.c */
extern const ma_dp_step_kind ma_dp_step_zip, ma_dp_step_unzip;                 /* dataprocess_zip.c */
extern const ma_dp_step_kind ma_dp_step_charencode, ma_dp_step_chardecode;     /* dataprocess_charset.c */
extern const ma_dp_step_kind ma_dp_step_xslt;                                  /* dataprocess_xslt.c */
extern const ma_dp_step_kind ma_dp_step_json_to_mime, ma_dp_step_mime_to_json; /* dataprocess_mime.c */

const ma_dp_step_kind *const ma_dp_step_kinds[] = {
    &ma_dp_pgp_encrypt,
    &ma_dp_pgp_decrypt,
    &ma_dp_step_script,
    &ma_dp_step_zip,
    &ma_dp_step_unzip,
    &ma_dp_step_charencode,
    &ma_dp_step_chardecode,
    &ma_dp_step_xslt,
    &ma_dp_step_json_to_mime,
    &ma_dp_step_mime_to_json,
    NULL,
};
