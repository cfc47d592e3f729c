/* script_component.h - Boomi's Script components: a Process Script (type "script.processing",
 * <ProcessingScript language><script>) that a Custom Scripting step of a Data Process shape runs,
 * and a Map Script (type "script.mapping", <MappingScript language><script><Input index name
 * dataType/><Output index name/>) that a map's Scripting function runs, when the step or function
 * says useComponent="true" componentId="...". See docs/decisions/019-scripting.md. */
#ifndef MA_SCRIPT_COMPONENT_H
#define MA_SCRIPT_COMPONENT_H

#include <libxml/tree.h>

#include "component.h"
#include "miniatom/error.h"

#define MA_SCRIPT_PROCESSING "script.processing"
#define MA_SCRIPT_MAPPING "script.mapping"

/* Looks up the Script component id of the given type (MA_SCRIPT_PROCESSING or MA_SCRIPT_MAPPING)
 * and returns its payload element (<ProcessingScript> or <MappingScript>, borrowed from the
 * deployment). NULL with err when it is not there: *missing is then 1 when the deployment does not
 * hold the component (the caller may run the inline copy the export carries) and 0 when it holds
 * something else (another type, no payload, no <script>: a configuration error). */
const xmlNode *ma_script_component(ma_deploy *dep, const char *id, const char *type, int *missing, ma_error *err);

#endif
