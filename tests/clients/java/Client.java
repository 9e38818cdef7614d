// JDBC against idsql: the calls of tests/clients, printed as JSON for test_java.py.
// Usage: java -cp postgresql.jar:. Client jdbc:postgresql://host:port/dbname user statement...
// The statements after the user are the ones whose errors are reported, in order.

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

public final class Client {
    private Client() {
    }

    private static String json(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private static String one(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (arg != null) {
                ps.setString(1, arg);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    public static void main(String[] args) throws SQLException {
        StringBuilder out = new StringBuilder("{");
        try (Connection c = DriverManager.getConnection(args[0], args[1], "")) {
            out.append("\"first\":").append(json(one(c, "INSERT INTO account (name) VALUES ('first') RETURNING id", null)));
            try (PreparedStatement ps = c.prepareStatement("UPDATE account SET name = 'second' WHERE id = ?")) {
                ps.setString(1, "ACC-AAA0001");
                out.append(",\"update\":").append(ps.executeUpdate());
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO account (name) VALUES (?)")) {
                for (String n : new String[] {"b1", "b2", "b3"}) {
                    ps.setString(1, n);
                    ps.addBatch();
                }
                int total = 0;
                for (int n : ps.executeBatch()) {
                    total += n;
                }
                out.append(",\"batch\":").append(total);
            }
            c.commit();
            c.setAutoCommit(true);
            out.append(",\"generated\":").append(json(one(c, "SELECT idsql.generate_id(?)", "ACC")));
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT * FROM idsql.bulk_generate_ids('BLK', 1000)")) {
                Set<String> ids = new HashSet<>();
                String first = null;
                String last = null;
                int count = 0;
                while (rs.next()) {
                    last = rs.getString(1);
                    first = first == null ? last : first;
                    ids.add(last);
                    count++;
                }
                out.append(",\"bulk\":[").append(count).append(',').append(ids.size()).append(',')
                   .append(json(first)).append(',').append(json(last)).append(']');
            }
            try (Statement st = c.createStatement()) {
                out.append(",\"noop\":").append(st.executeUpdate("UPDATE account SET name = name"));
                int rows = 0;
                try (ResultSet rs = st.executeQuery("UPDATE account SET name = name RETURNING id")) {
                    while (rs.next()) {
                        rows++;
                    }
                }
                out.append(",\"noop_returning\":").append(rows);
            }
            out.append(",\"errors\":[");
            for (int i = 2; i < args.length; i++) {
                out.append(i > 2 ? "," : "");
                try (Statement st = c.createStatement()) {
                    st.execute(args[i]);
                    out.append("null");
                } catch (PSQLException e) {
                    ServerErrorMessage m = e.getServerErrorMessage();
                    out.append('[').append(json(e.getSQLState())).append(',').append(json(m.getMessage()))
                       .append(',').append(json(m.getDetail())).append(',').append(json(m.getHint())).append(']');
                }
            }
            out.append("],\"calls\":[");
            String[] calls = System.getenv("IDSQL_CALLS").split("\n");
            for (int i = 0; i < calls.length; i++) {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(calls[i])) {
                    rs.next();
                    out.append(i > 0 ? "," : "").append(json(rs.getString(1)));
                }
            }
            out.append("]}");
        }
        System.out.print(out);
    }
}
