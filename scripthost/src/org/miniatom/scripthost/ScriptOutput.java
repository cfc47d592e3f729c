/* ScriptOutput.java - what scripts print (System.out, System.err: println, printStackTrace) is cut
 * into lines for the execution log of the run that printed it, within the run's byte budget
 * (Host.addLogLine: beyond it lines are counted and dropped). Outside a request (the host's own
 * messages) it goes to the host's stderr, at most MAX_HOST_BYTES over the host's life. */
package org.miniatom.scripthost;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

final class ScriptOutput extends OutputStream {
    static final int MAX_LINE = 8192;          /* a longer line is cut (and ends with "...") */
    static final long MAX_HOST_BYTES = 1 << 20; /* the host's own stderr over its life */
    private static long hostBytes;
    private static boolean hostCut;

    private final Host host;
    private final int level; /* the log level of its lines: 0 out, 1 err */
    private final PrintStream hostErr;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private boolean cut;

    ScriptOutput(Host host, int level, PrintStream hostErr) {
        this.host = host;
        this.level = level;
        this.hostErr = hostErr;
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            emit();
        } else if (line.size() < MAX_LINE) {
            line.write(b);
        } else {
            cut = true;
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) write(b[i]);
    }

    /* A line not ended yet is kept until the next newline or the run's end (Host.endOutput). */
    @Override
    public synchronized void flush() {}

    synchronized void endRun() {
        if (line.size() > 0 || cut) emit();
    }

    private void emit() {
        String s = new String(line.toByteArray(), StandardCharsets.UTF_8) + (cut ? "..." : "");
        line.reset();
        cut = false;
        if (host.addLogLine(level, s)) return;
        synchronized (ScriptOutput.class) { /* no request runs: the host's own stderr */
            if (hostBytes + s.length() + 1 > MAX_HOST_BYTES) {
                if (!hostCut) hostErr.println("scripthost: further output dropped (" + MAX_HOST_BYTES + " bytes kept)");
                hostCut = true;
                return;
            }
            hostBytes += s.length() + 1;
            hostErr.println(s);
        }
    }
}
