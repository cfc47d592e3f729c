/* ExecutionTask.java - Boomi's com.boomi.execution.ExecutionTask (ExecutionManager.getCurrent()):
 * the identity of the running execution, its properties snapshot and what the script changed. */
package com.boomi.execution;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

public final class ExecutionTask {
    /** A dynamic process property the script set. */
    public static final class DppWrite {
        public final String name, value;
        public final boolean persist;

        DppWrite(String n, String v, boolean p) {
            name = n;
            value = v;
            persist = p;
        }
    }

    /** A defined process property the script set. */
    public static final class PpWrite {
        public final String componentId, key, value;

        PpWrite(String c, String k, String v) {
            componentId = c;
            key = k;
            value = v;
        }
    }

    private final Map<String, String> runtime;
    private final Map<String, String> dpp;
    private final Map<String, String> pp; /* "componentId\0key" */
    private final Logger logger;
    private final Lookup lookup;
    private final Map<String, String> asked = new HashMap<>(); /* answers of lookup, null included */

    /** Asks the runtime for a property the snapshot lacks: kind 0 dynamic (a = name), 1 defined
     * (a = component id, b = key). Returns null when it is not set. */
    public interface Lookup {
        String get(int kind, String a, String b);
    }
    public final List<DppWrite> dppWrites = new ArrayList<>();
    public final List<PpWrite> ppWrites = new ArrayList<>();

    public ExecutionTask(Map<String, String> runtime, Map<String, String> dpp, Map<String, String> pp, Logger logger,
                         Lookup lookup) {
        this.lookup = lookup;
        this.runtime = runtime;
        this.dpp = new HashMap<>(dpp);
        this.pp = new HashMap<>(pp);
        this.logger = logger;
    }

    public String getId() { return runtime.get("EXECUTION_ID"); }
    public String getExecutionId() { return runtime.get("EXECUTION_ID"); }
    public String getTopLevelExecutionId() { return runtime.get("EXECUTION_ID"); }
    public String getProcessId() { return runtime.get("PROCESS_ID"); }
    public String getTopLevelProcessId() { return runtime.get("PROCESS_ID"); }
    public String getProcessName() { return runtime.get("PROCESS_NAME"); }
    public String getComponentId() { return runtime.get("PROCESS_ID"); }
    public Logger getBaseLogger() { return logger; }

    String getRuntimeExecutionProperty(String key) { return key == null ? null : runtime.get(key); }

    private String ask(Map<String, String> local, String k, int kind, String a, String b) {
        if (local.containsKey(k)) return local.get(k);
        String ak = kind + "\0" + k;
        if (asked.containsKey(ak)) return asked.get(ak);
        String v = lookup == null ? null : lookup.get(kind, a, b);
        asked.put(ak, v);
        return v;
    }

    String getDynamicProcessProperty(String name) {
        if (name == null) return null;
        return ask(dpp, name, 0, name, "");
    }

    void setDynamicProcessProperty(String name, String value, boolean persist) {
        if (name == null) throw new IllegalArgumentException("a dynamic process property needs a name");
        String v = value == null ? "" : value;
        dpp.put(name, v);
        dppWrites.add(new DppWrite(name, v, persist));
    }

    String getProcessProperty(String componentId, String key) {
        if (componentId == null || key == null) return null;
        return ask(pp, componentId + "\0" + key, 1, componentId, key);
    }

    void setProcessProperty(String componentId, String key, String value) {
        if (componentId == null || key == null)
            throw new IllegalArgumentException("a process property needs a component id and a key");
        String v = value == null ? "" : value;
        pp.put(componentId + "\0" + key, v);
        ppWrites.add(new PpWrite(componentId, key, v));
    }
}
