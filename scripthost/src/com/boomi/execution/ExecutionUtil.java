/* ExecutionUtil.java - Boomi's com.boomi.execution.ExecutionUtil for mini-Atom's script host: the
 * dynamic and defined process properties of the running execution, its base logger and its runtime
 * execution properties (EXECUTION_ID, PROCESS_ID, ...), as Boomi documents them for Custom
 * Scripting. Reads come from the snapshot the runtime sent with the batch; writes go back with it. */
package com.boomi.execution;

import java.util.logging.Logger;

public final class ExecutionUtil {
    private ExecutionUtil() {}

    /** The dynamic process property's value, or null when it is not set. */
    public static String getDynamicProcessProperty(String name) {
        return ExecutionManager.current().getDynamicProcessProperty(name);
    }

    /** Sets a dynamic process property; persist keeps it for the next execution of the process. */
    public static void setDynamicProcessProperty(String name, String value, boolean persist) {
        ExecutionManager.current().setDynamicProcessProperty(name, value, persist);
    }

    /** The value of a defined process property (Process Property component id, key), or null. */
    public static String getProcessProperty(String componentId, String key) {
        return ExecutionManager.current().getProcessProperty(componentId, key);
    }

    public static void setProcessProperty(String componentId, String key, String value) {
        ExecutionManager.current().setProcessProperty(componentId, key, value);
    }

    /** The logger whose records go to the execution's log. */
    public static Logger getBaseLogger() { return ExecutionManager.current().getBaseLogger(); }

    /** EXECUTION_ID, PROCESS_ID, PROCESS_NAME, ATOM_ID, ATOM_NAME, ACCOUNT_ID, NODE_ID, DOCUMENT_COUNT. */
    public static String getRuntimeExecutionProperty(String key) {
        return ExecutionManager.current().getRuntimeExecutionProperty(key);
    }
}
