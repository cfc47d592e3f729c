/* DataContext.java - the dataContext object of a Boomi Custom Scripting step: the batch's
 * documents (getDataCount, getStream, getProperties) and the documents the script stores
 * (storeStream), which become the step's output in the order they were stored. */
package org.miniatom.scripthost;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public final class DataContext {
    /** A stored document: its bytes and a copy of the properties given with it. */
    static final class Stored {
        final byte[] data;
        final Properties props;

        Stored(byte[] d, Properties p) {
            data = d;
            props = p;
        }
    }

    private final byte[][] data;
    private final Properties[] props;
    final List<Stored> stored = new ArrayList<>();

    DataContext(byte[][] data, Properties[] props) {
        this.data = data;
        this.props = props;
    }

    public int getDataCount() { return data.length; }

    public InputStream getStream(int i) {
        check(i);
        return new ByteArrayInputStream(data[i]);
    }

    public Properties getProperties(int i) {
        check(i);
        return props[i];
    }

    public void storeStream(InputStream is, Properties p) throws IOException {
        if (is == null) throw new IllegalArgumentException("storeStream: the stream is null");
        byte[] b = is.readAllBytes();
        Properties copy = new Properties();
        if (p != null)
            for (String k : p.stringPropertyNames()) copy.setProperty(k, p.getProperty(k));
        stored.add(new Stored(b, copy));
    }

    private void check(int i) {
        if (i < 0 || i >= data.length)
            throw new IndexOutOfBoundsException("document index " + i + " (the batch has " + data.length + ")");
    }
}
