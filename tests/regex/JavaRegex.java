/* JavaRegex.java - prints java.util.regex's results for each row of a regex table
 * (tests/regex/cases.txt; format in run.sh), in the form tests/regex/probe.c prints mini-Atom's,
 * so that run.sh can compare them line by line: the expected results come from Java itself. */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

public class JavaRegex {
    static String decode(String f) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < f.length(); i++) {
            char c = f.charAt(i);
            if (c != '%' || i + 1 >= f.length()) { b.append(c); continue; }
            char e = f.charAt(++i);
            if (e == 'n') b.append('\n');
            else if (e == 'r') b.append('\r');
            else if (e == 't') b.append('\t');
            else if (e == 'u' && i + 1 < f.length() && f.charAt(i + 1) == '{') {
                int end = f.indexOf('}', i);
                b.appendCodePoint(Integer.parseInt(f.substring(i + 2, end), 16));
                i = end;
            } else b.append(e);
        }
        return b.toString();
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(cp -> {
            if (cp == '%' || cp == '|' || cp == '[' || cp == ']') b.append('%').append((char) cp);
            else if (cp >= 0x20 && cp < 0x7f) b.append((char) cp);
            else b.append("%u{").append(Integer.toHexString(cp)).append('}');
        });
        return b.toString();
    }

    public static void main(String[] args) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(new FileInputStream(args[0]), StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        for (String line; (line = r.readLine()) != null;) {
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] f = line.split("\t", -1);
            if (f.length < 3) continue;
            String id = f[0], mode = f[1], pat = decode(f[2]);
            String in = f.length > 3 ? decode(f[3]) : "", rep = f.length > 4 ? decode(f[4]) : "";
            String res;
            try {
                Pattern p = Pattern.compile(pat);
                Matcher m = p.matcher(in);
                if (mode.equals("refuse")) res = "refused"; /* Java accepts what we refuse on purpose */
                else if (mode.equals("matches")) res = Boolean.toString(m.matches());
                else if (mode.equals("replace")) {
                    try { res = esc(m.replaceAll(rep)); }
                    catch (IllegalArgumentException | IndexOutOfBoundsException e) { res = "replacement-error"; }
                } else {
                    StringBuilder b = new StringBuilder();
                    int n = 0;
                    while (n < 50 && m.find()) {
                        b.append('[');
                        for (int g = 0; g <= m.groupCount(); g++) {
                            if (g > 0) b.append('|');
                            b.append(m.group(g) == null ? "-" : esc(m.group(g)));
                        }
                        b.append(']');
                        n++;
                    }
                    res = n == 0 ? "none" : b.toString();
                }
            } catch (PatternSyntaxException e) {
                res = mode.equals("refuse") ? "java-refuses-it-too" : "error";
            }
            out.append(id).append('\t').append(res).append('\n');
        }
        System.out.print(out);
    }
}
