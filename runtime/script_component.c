/* script_component.c - resolves the Script component a Custom Scripting step (Process Script,
 * "script.processing") or a Scripting map function (Map Script, "script.mapping") references with
 * useComponent="true" componentId (Boomi: "Custom scripting", docs/decisions/019-scripting.md). */
#include <string.h>

#include "script_component.h"
#include "util.h"

const xmlNode *ma_script_component(ma_deploy *dep, const char *id, const char *type, int *missing, ma_error *err)
{
    const int process = strcmp(type, MA_SCRIPT_PROCESSING) == 0;
    const char *what = process ? "Process Script component" : "Map Script component";
    *missing = 0;
    if (!id || !*id) {
        ma_error_set(err, MA_ERR_CONFIG, "useComponent=\"true\" without a componentId");
        *missing = 1;
        return NULL;
    }
    ma_component *c = ma_deploy_find(dep, id);
    if (!c) {
        *missing = 1;
        ma_error_set(err, MA_ERR_REF, "%s %s is not in the deployment", what, id);
        return NULL;
    }
    if (strcmp(c->type, type) != 0) {
        ma_error_set(err, MA_ERR_REF, "%s %s is a component of type '%s' ('%s' in %s), not %s", what, id, c->type,
                     c->name, c->file, type);
        return NULL;
    }
    const char *root = process ? "ProcessingScript" : "MappingScript";
    const xmlNode *o = c->object;
    if (!o || !ma_streq((const char *)o->name, root) || !ma_xml_child(o, "script")) {
        ma_error_set(err, MA_ERR_CONFIG, "%s %s ('%s' in %s) has no <%s><script>", what, id, c->name, c->file, root);
        return NULL;
    }
    return o;
}
