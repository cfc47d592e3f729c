/* ExecutionManager.java - Boomi's com.boomi.execution.ExecutionManager: getCurrent() is the
 * execution whose batch the script host is running (one at a time). */
package com.boomi.execution;

public final class ExecutionManager {
    private static volatile ExecutionTask current;

    private ExecutionManager() {}

    public static ExecutionTask getCurrent() { return current; }

    /** Set by the host around each run; null between runs. */
    public static void setCurrent(ExecutionTask t) { current = t; }

    static ExecutionTask current() {
        ExecutionTask t = current;
        if (t == null) throw new IllegalStateException("no execution is running");
        return t;
    }
}
