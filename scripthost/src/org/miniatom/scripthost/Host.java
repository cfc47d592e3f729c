/* Host.java - mini-Atom's script host: a JVM the runtime starts once (runtime/scripthost.c) and
 * speaks to over stdin/stdout with the framed protocol of docs/decisions/019-scripting.md.
 * It compiles Custom Scripting sources once (Groovy 2.4 for "groovy" and "groovy2", Rhino for
 * "javascript"), caches them by the key the runtime gives, and runs one batch at a time with the
 * Boomi script API (dataContext, com.boomi.execution.*). Everything a script prints goes to stderr:
 * stdout carries only frames. */
package org.miniatom.scripthost;

import com.boomi.execution.ExecutionManager;
import com.boomi.execution.ExecutionTask;
import groovy.lang.Binding;
import groovy.lang.GroovyClassLoader;
import groovy.lang.GroovyCodeSource;
import groovy.lang.Script;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.codehaus.groovy.control.CompilerConfiguration;
import org.codehaus.groovy.control.MultipleCompilationErrorsException;
import org.codehaus.groovy.control.messages.Message;
import org.codehaus.groovy.control.messages.SyntaxErrorMessage;
import org.codehaus.groovy.runtime.InvokerHelper;
import org.mozilla.javascript.Context;
import org.mozilla.javascript.ImporterTopLevel;
import org.mozilla.javascript.RhinoException;
import org.mozilla.javascript.ScriptableObject;

public final class Host {
    static final String VERSION = "miniatom-scripthost 1";
    static final int MAX_CACHE = 1024;
    static final int MAX_FIELD = Integer.MAX_VALUE - 64;

    /** A compiled script: a Groovy class or a Rhino script. */
    static final class Compiled {
        final String name; /* the source name stack traces carry */
        final Class<?> groovy;
        final org.mozilla.javascript.Script js;

        Compiled(String n, Class<?> g, org.mozilla.javascript.Script j) {
            name = n;
            groovy = g;
            js = j;
        }
    }

    /** A script failure with the line of the script it happened on (0: unknown). */
    static final class ScriptFailure extends Exception {
        final int line;

        ScriptFailure(String msg, int line) {
            super(msg);
            this.line = line;
        }
    }

    private final DataInputStream in;
    private final DataOutputStream out;
    private final Map<String, Compiled> cache = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Compiled> e) { return size() > MAX_CACHE; }
    };
    private final GroovyClassLoader gcl;
    private final Context cx;
    private final Logger logger;
    private final List<Object[]> logLines = new ArrayList<>(); /* {Integer level, String message} */
    /* the execution log lines of one run (logger and printed output): at most MAX_RUN_LOG bytes,
     * the rest counted and dropped; inRequest: a run or call is being served */
    static final long MAX_RUN_LOG = 256 * 1024;
    private long logBytes, droppedLines, droppedBytes;
    private boolean inRequest;
    private ScriptOutput scriptOut, scriptErr;
    private int scriptSeq;

    Host(DataInputStream in, DataOutputStream out) {
        this.in = in;
        this.out = out;
        CompilerConfiguration cc = new CompilerConfiguration();
        gcl = new GroovyClassLoader(Host.class.getClassLoader(), cc);
        cx = Context.enter();
        cx.setLanguageVersion(Context.VERSION_1_8);
        logger = Logger.getLogger("com.boomi.script");
        logger.setUseParentHandlers(false);
        logger.setLevel(Level.INFO);
        logger.addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (!isLoggable(r)) return;
                int lv = r.getLevel().intValue() >= Level.SEVERE.intValue() ? 2
                         : r.getLevel().intValue() >= Level.WARNING.intValue() ? 1 : 0;
                String m = r.getMessage();
                if (r.getParameters() != null && m != null) {
                    try {
                        m = java.text.MessageFormat.format(m, r.getParameters());
                    } catch (IllegalArgumentException e) { /* the message as it is */
                    }
                }
                addLogLine(lv, m == null ? "null" : m);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        });
    }

    /* Adds a line to the run's log within its budget; false when no request runs. */
    boolean addLogLine(int level, String m) {
        synchronized (logLines) {
            if (!inRequest) return false;
            long n = m.length() + 1L;
            if (logBytes + n > MAX_RUN_LOG || logLines.size() >= 10000) {
                droppedLines++;
                droppedBytes += n;
                return true;
            }
            logBytes += n;
            logLines.add(new Object[] {level, m});
            return true;
        }
    }

    /* Starts a request's log: no lines, an empty budget; printed output goes to it. */
    private void beginLog() {
        synchronized (logLines) {
            logLines.clear();
            logBytes = droppedLines = droppedBytes = 0;
            inRequest = true;
        }
    }

    /* Ends it: the last unfinished printed lines, and a line saying what was dropped. */
    private void endLog() {
        System.out.flush();
        System.err.flush();
        if (scriptOut != null) scriptOut.endRun();
        if (scriptErr != null) scriptErr.endRun();
        synchronized (logLines) {
            inRequest = false;
            if (droppedLines > 0)
                logLines.add(new Object[] {1, droppedLines + " line(s) of script output (" + droppedBytes
                                                  + " bytes) were dropped: a run keeps " + MAX_RUN_LOG
                                                  + " bytes of log"});
        }
    }

    /* Sends what scripts print to the runs' logs (ScriptOutput). */
    void captureOutput(PrintStream hostErr) {
        scriptOut = new ScriptOutput(this, 0, hostErr);
        scriptErr = new ScriptOutput(this, 1, hostErr);
        System.setOut(new PrintStream(scriptOut, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(scriptErr, true, StandardCharsets.UTF_8));
    }

    /* ---- frames ---- */

    private String readStr() throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_FIELD) throw new IOException("bad string length " + n);
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private byte[] readBytes() throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_FIELD) throw new IOException("bad field length " + n);
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    private static void putStr(DataOutputStream o, String s) throws IOException {
        byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
        o.writeInt(b.length);
        o.write(b);
    }

    private void send(ByteArrayOutputStream body) throws IOException {
        out.writeInt(body.size());
        body.writeTo(out);
        out.flush();
    }

    private void sendSimple(char op, String msg, int line) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(b);
        o.writeByte(op);
        if (msg != null) {
            putStr(o, msg);
            o.writeInt(line);
        }
        send(b);
    }

    /* ---- compile ---- */

    private static int groovyLine(MultipleCompilationErrorsException e) {
        for (Object m : e.getErrorCollector().getErrors())
            if (m instanceof SyntaxErrorMessage) return ((SyntaxErrorMessage)m).getCause().getLine();
        return 0;
    }

    private static String groovyMessage(MultipleCompilationErrorsException e) {
        for (Object m : e.getErrorCollector().getErrors())
            if (m instanceof SyntaxErrorMessage) return ((SyntaxErrorMessage)m).getCause().getOriginalMessage();
        Object m = e.getErrorCollector().getErrors().isEmpty() ? null : e.getErrorCollector().getErrors().get(0);
        if (m instanceof Message) {
            java.io.StringWriter w = new java.io.StringWriter();
            ((Message)m).write(new java.io.PrintWriter(w));
            return w.toString().trim();
        }
        return e.getMessage();
    }

    Compiled compile(String lang, String source) throws ScriptFailure {
        String name = "Script" + (++scriptSeq);
        if (lang.equals("groovy") || lang.equals("groovy2")) {
            try {
                Class<?> c = gcl.parseClass(new GroovyCodeSource(source, name + ".groovy", "/groovy/script"), false);
                return new Compiled(name + ".groovy", c, null);
            } catch (MultipleCompilationErrorsException e) {
                throw new ScriptFailure(groovyMessage(e), groovyLine(e));
            } catch (Throwable t) {
                throw new ScriptFailure(t.toString(), 0);
            }
        }
        if (lang.equals("javascript")) {
            try {
                org.mozilla.javascript.Script s = cx.compileString(source, name + ".js", 1, null);
                return new Compiled(name + ".js", null, s);
            } catch (RhinoException e) {
                throw new ScriptFailure(e.details(), e.lineNumber());
            }
        }
        throw new ScriptFailure("unknown script language '" + lang + "' (groovy, groovy2 or javascript)", 0);
    }

    /* ---- run ---- */

    /** The line of the script in t's stack (t and its causes), 0 when none. */
    private static int lineIn(Throwable t, String name) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof RhinoException && ((RhinoException)c).lineNumber() > 0)
                return ((RhinoException)c).lineNumber();
            for (StackTraceElement e : c.getStackTrace())
                if (name.equals(e.getFileName()) && e.getLineNumber() > 0) return e.getLineNumber();
        }
        return 0;
    }

    private static String describe(Throwable t) {
        Throwable c = t;
        if (c instanceof org.mozilla.javascript.WrappedException)
            c = ((org.mozilla.javascript.WrappedException)c).getWrappedException();
        else if (c instanceof RhinoException)
            return ((RhinoException)c).details();
        while (c instanceof java.lang.reflect.InvocationTargetException && c.getCause() != null) c = c.getCause();
        String m = c.getMessage();
        return c.getClass().getName() + (m != null ? ": " + m : "");
    }

    /* A map function script: its inputs are variables by name, its outputs the variables it left. */
    private String[] call(Compiled c, Map<String, String> inputs, String[] outputs) throws ScriptFailure {
        String[] vals = new String[outputs.length];
        try {
            if (c.groovy != null) {
                Binding b = new Binding();
                for (Map.Entry<String, String> e : inputs.entrySet()) b.setVariable(e.getKey(), e.getValue());
                Script s = InvokerHelper.createScript(c.groovy, b);
                s.run();
                for (int i = 0; i < outputs.length; i++) {
                    Object v = b.hasVariable(outputs[i]) ? b.getVariable(outputs[i]) : null;
                    vals[i] = v == null ? null : v.toString();
                }
            } else {
                ImporterTopLevel scope = new ImporterTopLevel(cx);
                for (Map.Entry<String, String> e : inputs.entrySet())
                    ScriptableObject.putProperty(scope, e.getKey(), e.getValue());
                c.js.exec(cx, scope);
                for (int i = 0; i < outputs.length; i++) {
                    Object v = ScriptableObject.getProperty(scope, outputs[i]);
                    vals[i] = v == null || v == ScriptableObject.NOT_FOUND || v instanceof org.mozilla.javascript.Undefined
                                  ? null
                                  : Context.toString(v);
                }
            }
        } catch (ThreadDeath t) {
            throw t;
        } catch (Throwable t) {
            throw new ScriptFailure(describe(t), lineIn(t, c.name));
        }
        return vals;
    }

    private void run(Compiled c, DataContext dc) throws ScriptFailure {
        try {
            if (c.groovy != null) {
                Binding b = new Binding();
                b.setVariable("dataContext", dc);
                Script s = InvokerHelper.createScript(c.groovy, b);
                s.run();
            } else {
                ImporterTopLevel scope = new ImporterTopLevel(cx);
                ScriptableObject.putProperty(scope, "dataContext", Context.javaToJS(dc, scope));
                c.js.exec(cx, scope);
            }
        } catch (ThreadDeath t) {
            throw t;
        } catch (Throwable t) {
            throw new ScriptFailure(describe(t), lineIn(t, c.name));
        }
    }

    /* Document property ids: the runtime's (dynamicdocument.NAME, connector.TYPE.PROP, ...) and the
     * names scripts use (document.dynamic.userdefined.NAME, connector.track.TYPE.PROP to read,
     * connector.dynamic.TYPE.PROP to write). */
    static final String DDP = "document.dynamic.userdefined.", RT_DDP = "dynamicdocument.";

    private static void toScript(Properties p, String id, String v) {
        if (id.startsWith(RT_DDP)) p.setProperty(DDP + id.substring(RT_DDP.length()), v);
        else if (id.startsWith("connector.")) {
            String rest = id.substring(10);
            p.setProperty("connector.track." + rest, v);
            p.setProperty("connector.dynamic." + rest, v);
        } else p.setProperty(id, v);
    }

    private static Map<String, String> fromScript(Properties p) {
        Map<String, String> m = new LinkedHashMap<>();
        List<String> dyn = new ArrayList<>();
        for (String k : p.stringPropertyNames()) {
            String v = p.getProperty(k);
            if (k.startsWith(DDP)) m.put(RT_DDP + k.substring(DDP.length()), v);
            else if (k.startsWith("connector.track.")) m.putIfAbsent("connector." + k.substring(16), v);
            else if (k.startsWith("connector.dynamic.")) dyn.add(k);
            else m.put(k, v);
        }
        for (String k : dyn) m.put("connector." + k.substring(18), p.getProperty(k)); /* a write wins */
        return m;
    }

    private Map<String, String> runtime;
    private Map<String, String> dppIn, ppIn;

    /* The run's context: runtime properties, then the dynamic and defined property snapshots. */
    private void readContext() throws IOException {
        int n = in.readInt();
        Map<String, String> runtime = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String k = readStr();
            runtime.put(k, readStr());
        }
        n = in.readInt();
        Map<String, String> dpp = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String k = readStr();
            dpp.put(k, readStr());
        }
        n = in.readInt();
        Map<String, String> pp = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String c = readStr(), k = readStr();
            pp.put(c + "\0" + k, readStr());
        }
        this.runtime = runtime;
        dppIn = dpp;
        ppIn = pp;
        /* the execution's temp folder: the only one this request's script may use */
        String dir = readStr();
        dir = dir.isEmpty() ? null : new File(dir).getCanonicalPath();
        ScriptSecurity.setRequestDir(dir);
        /* a mini-Atom runtime property: where the script may write (relative paths resolve
         * against the host's own folder, which it may not use: Java cannot change directory) */
        if (dir != null) runtime.put("TEMP_DIR", dir);
    }

    /* Writes the log lines and the property writes of a run into o. */
    private void writeEffects(DataOutputStream o, ExecutionTask task) throws IOException {
        synchronized (logLines) {
            o.writeInt(logLines.size());
            for (Object[] l : logLines) {
                o.writeByte((Integer)l[0]);
                putStr(o, (String)l[1]);
            }
            logLines.clear();
        }
        o.writeInt(task.dppWrites.size());
        for (ExecutionTask.DppWrite w : task.dppWrites) {
            putStr(o, w.name);
            putStr(o, w.value);
            o.writeByte(w.persist ? 1 : 0);
        }
        o.writeInt(task.ppWrites.size());
        for (ExecutionTask.PpWrite w : task.ppWrites) {
            putStr(o, w.componentId);
            putStr(o, w.key);
            putStr(o, w.value);
        }
    }

    private void handleCall() throws IOException {
        String key = readStr();
        readContext();
        int n = in.readInt();
        if (n < 0) throw new IOException("bad input count");
        Map<String, String> inputs = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String k = readStr();
            inputs.put(k, readStr());
        }
        n = in.readInt();
        if (n < 0) throw new IOException("bad output count");
        String[] outputs = new String[n];
        for (int i = 0; i < n; i++) outputs[i] = readStr();
        Compiled c = cache.get(key);
        if (c == null) {
            sendSimple('U', null, 0);
            return;
        }
        ExecutionTask task = new ExecutionTask(runtime, dppIn, ppIn, logger, this::lookup);
        ScriptFailure failure = null;
        String[] vals = null;
        beginLog();
        ExecutionManager.setCurrent(task);
        try {
            vals = call(c, inputs, outputs);
        } catch (ScriptFailure f) {
            failure = f;
        } finally {
            ExecutionManager.setCurrent(null);
            endLog();
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(256);
        DataOutputStream o = new DataOutputStream(b);
        o.writeByte('F');
        writeEffects(o, task);
        if (failure != null) {
            o.writeByte(1);
            putStr(o, failure.getMessage());
            o.writeInt(failure.line);
        } else {
            o.writeByte(0);
            o.writeInt(vals.length);
            for (String v : vals) {
                o.writeByte(v == null ? 0 : 1);
                putStr(o, v);
            }
        }
        o.flush();
        send(b);
    }

    private void handleRun() throws IOException {
        String key = readStr();
        readContext();
        Map<String, String> runtime = this.runtime, dpp = dppIn, pp = ppIn;
        int ndocs = in.readInt();
        if (ndocs < 0) throw new IOException("bad document count");
        byte[][] data = new byte[ndocs][];
        Properties[] props = new Properties[ndocs];
        for (int i = 0; i < ndocs; i++) {
            int np = in.readInt();
            props[i] = new Properties();
            for (int j = 0; j < np; j++) {
                String k = readStr();
                toScript(props[i], k, readStr());
            }
            data[i] = readBytes();
        }
        Compiled c = cache.get(key);
        if (c == null) {
            sendSimple('U', null, 0);
            return;
        }
        runtime.put("DOCUMENT_COUNT", Integer.toString(ndocs));
        ExecutionTask task = new ExecutionTask(runtime, dpp, pp, logger, this::lookup);
        DataContext dc = new DataContext(data, props);
        ScriptFailure failure = null;
        beginLog();
        ExecutionManager.setCurrent(task);
        try {
            run(c, dc);
        } catch (ScriptFailure f) {
            failure = f;
        } finally {
            ExecutionManager.setCurrent(null);
            endLog();
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(1024 + dc.stored.size() * 64);
        DataOutputStream o = new DataOutputStream(b);
        o.writeByte('D');
        writeEffects(o, task);
        if (failure != null) {
            o.writeByte(1);
            putStr(o, failure.getMessage());
            o.writeInt(failure.line);
        } else {
            o.writeByte(0);
            o.writeInt(dc.stored.size());
            for (DataContext.Stored s : dc.stored) {
                Map<String, String> m = fromScript(s.props);
                o.writeInt(m.size());
                for (Map.Entry<String, String> e : m.entrySet()) {
                    putStr(o, e.getKey());
                    putStr(o, e.getValue());
                }
                o.writeInt(s.data.length);
                o.write(s.data);
            }
        }
        o.flush();
        send(b);
    }

    /* A property read the run's snapshot lacks: a 'G' frame to the runtime, answered by 'V'. */
    private String lookup(int kind, String a, String b) {
        try {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            DataOutputStream o = new DataOutputStream(buf);
            o.writeByte('G');
            o.writeByte(kind);
            putStr(o, a);
            putStr(o, b);
            send(buf);
            int len = in.readInt();
            int op = in.readUnsignedByte();
            if (len < 1 || op != 'V') throw new IOException("expected a 'V' frame");
            int present = in.readUnsignedByte();
            String v = readStr();
            return present != 0 ? v : null;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void handleCompile() throws IOException {
        String key = readStr(), lang = readStr(), source = readStr();
        if (cache.containsKey(key)) {
            sendSimple('O', null, 0);
            return;
        }
        try {
            cache.put(key, compile(lang, source));
            sendSimple('O', null, 0);
        } catch (ScriptFailure f) {
            sendSimple('E', f.getMessage(), f.line);
        }
    }

    void serve() throws IOException {
        sendSimple('Y', VERSION, 0);
        for (;;) {
            int len;
            try {
                len = in.readInt();
            } catch (EOFException e) {
                return;
            }
            if (len < 1) throw new IOException("bad frame length " + len);
            int op = in.readUnsignedByte();
            switch (op) {
            case 'C': handleCompile(); break;
            case 'R': handleRun(); break;
            case 'M': handleCall(); break;
            case 'Q': return;
            default: throw new IOException("unknown request '" + (char)op + "'");
            }
        }
    }

    /* Arguments: --network yes|no, --workdir DIR, --read-root DIR (repeatable). */
    public static void main(String[] args) throws Exception {
        boolean network = false;
        String workDir = null;
        List<String> roots = new ArrayList<>();
        roots.add(new File(System.getProperty("java.home")).getCanonicalPath());
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--network")) network = args[i + 1].equals("yes");
            else if (args[i].equals("--workdir")) workDir = new File(args[i + 1]).getCanonicalPath();
            else if (args[i].equals("--read-root")) roots.add(new File(args[i + 1]).getCanonicalPath());
        }
        for (String cp : System.getProperty("java.class.path").split(File.pathSeparator))
            if (!cp.isEmpty()) roots.add(new File(cp).getCanonicalFile().getParent());
        DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(FileDescriptor.in), 1 << 16));
        DataOutputStream out =
            new DataOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16));
        PrintStream hostErr = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
        System.setOut(hostErr);
        Host h = new Host(in, out);
        h.captureOutput(hostErr);
        /* load the engines' classes before the manager is in place */
        try {
            h.run(h.compile("groovy2", "dataContext.getDataCount()"), new DataContext(new byte[0][], new Properties[0]));
            h.run(h.compile("javascript", "dataContext.getDataCount()"),
                  new DataContext(new byte[0][], new Properties[0]));
        } catch (ScriptFailure f) {
            System.err.println("scripthost: warm-up failed: " + f.getMessage());
        }
        /* a host whose miniatom is gone (killed while a script ran) ends itself */
        ProcessHandle parent = ProcessHandle.current().parent().orElse(null);
        if (parent != null) {
            Thread w = new Thread(() -> {
                for (;;) {
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (!parent.isAlive()) Runtime.getRuntime().halt(3);
                }
            }, "miniatom-parent-watch");
            w.setDaemon(true);
            w.start();
            ScriptSecurity.watchdog = w;
        }
        if (!"off".equals(System.getProperty("miniatom.scripthost.security"))) {
            System.setSecurityManager(new ScriptSecurity(network, roots, workDir));
        }
        try {
            h.serve();
        } finally {
            out.flush();
        }
    }
}
