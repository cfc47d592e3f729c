/* ScriptSecurity.java - what scripts may not do in the host, checked by a SecurityManager
 * (Java 17, -Djava.security.manager=allow): no network unless allowed, no files outside the
 * current request's folder (the execution's temp folder) and the Java/Groovy/Rhino installation, no programs, no exit, no replacing this
 * manager nor System.out/err (what scripts print is capped, ScriptOutput). It guards against plain access, not against a hostile script: Groovy is full Java
 * (docs/decisions/019-scripting.md). */
package org.miniatom.scripthost;

import java.io.File;
import java.io.FilePermission;
import java.net.SocketPermission;
import java.security.Permission;
import java.util.List;

final class ScriptSecurity extends SecurityManager {
    static volatile Thread watchdog; /* the host's own thread that may end the JVM */
    private final boolean network;
    private final List<String> readRoots; /* read-only */
    private final String workDir;         /* read and write when a request names no folder */
    /* the folder of the request being served (the execution's temp folder), set before its script
     * runs: requests come one at a time, so one field is enough */
    private static volatile String requestDir;

    static void setRequestDir(String dir) { requestDir = dir; }

    ScriptSecurity(boolean network, List<String> readRoots, String workDir) {
        this.network = network;
        this.readRoots = readRoots;
        this.workDir = workDir;
    }

    private static boolean under(String path, String root) {
        return path.equals(root) || path.startsWith(root.endsWith("/") ? root : root + "/");
    }

    @Override
    public void checkPermission(Permission p) {
        if (p instanceof SocketPermission) {
            if (!network)
                throw new SecurityException("network access is not allowed to scripts (script.network): " + p.getName());
            return;
        }
        if (p instanceof FilePermission) {
            String name = p.getName();
            String actions = p.getActions();
            if (name.equals("<<ALL FILES>>") || actions.contains("execute"))
                throw new SecurityException("scripts may not run programs or reach every file: " + name);
            String path;
            try {
                path = new File(name).getCanonicalPath();
            } catch (Exception e) {
                throw new SecurityException("file access denied: " + name);
            }
            String rw = requestDir != null ? requestDir : workDir;
            if (rw != null && under(path, rw)) return;
            if (actions.equals("read") || actions.equals("readlink")) {
                for (String r : readRoots)
                    if (under(path, r)) return;
            }
            throw new SecurityException("file access outside the script folder is not allowed: " + name);
        }
        if (p instanceof RuntimePermission) {
            String n = p.getName();
            if (n.startsWith("exitVM") && Thread.currentThread() == watchdog) return;
            if (n.equals("setSecurityManager") || n.equals("createSecurityManager") || n.startsWith("exitVM")
                || n.equals("setIO"))
                throw new SecurityException("scripts may not " + n);
        }
    }

    @Override
    public void checkPermission(Permission p, Object context) { checkPermission(p); }
}
