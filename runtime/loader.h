/* loader.h - reading a deploy folder (a tree of *.xml component files) into a deployment, then
 * compiling every process in it. Parsing is done with no entity expansion, no DTD loading and no
 * network access, and every file's size is bounded (boomi-process-xml.md 1.1). */
#ifndef MA_LOADER_H
#define MA_LOADER_H

#include "component.h"

/* New empty deployment (free with ma_deploy_free). reg is borrowed and must outlive it. */
ma_deploy *ma_deploy_new(const ma_registry *reg, const ma_deploy_opts *opts);
void ma_deploy_free(ma_deploy *dep);

/* Adds one component file. -1 with err when the file cannot be read, is not well-formed XML, is
 * not a component, or repeats a componentId (the error names both files). */
int ma_deploy_add_file(ma_deploy *dep, const char *path, ma_error *err);
/* Adds every *.xml below dir (sorted, recursive, hidden entries skipped). Stops at the first
 * file that fails, with err. */
int ma_deploy_add_dir(ma_deploy *dep, const char *dir, ma_error *err);
/* Like ma_deploy_add_dir, but a file that fails is handed to on_error (with its error) and the
 * walk goes on. Returns -1 only when dir itself cannot be read. */
int ma_deploy_add_dir_report(ma_deploy *dep, const char *dir, void (*on_error)(void *ctx, const ma_error *e), void *ctx,
                             ma_error *err);
/* Adds a component from memory (for tests and fuzzing); name is used in messages. */
int ma_deploy_add_buffer(ma_deploy *dep, const char *buf, size_t len, const char *name, ma_error *err);

/* Compiles every process (and what they reference). Problems are recorded in dep->problems;
 * returns the number of processes that are not runnable. */
size_t ma_deploy_compile(ma_deploy *dep);
/* Compiles one process component (idempotent). Returns 0 when runnable. */
int ma_deploy_compile_process(ma_deploy *dep, ma_component *comp);

/* Formats problem p as one line "file:line: component 'name' (id), shape shapeN 'label' (type): message". */
char *ma_problem_format(const ma_problem *p);
/* Frees what p holds (runtime/component.c). */
void ma_problem_free(ma_problem *p);

#endif
