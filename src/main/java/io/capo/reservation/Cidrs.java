package io.capo.reservation;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;

/**
 * Turns pod IPs into the entries Calico accepts in {@code spec.reservedCIDRs}: one host route per
 * address ({@code /32} or {@code /128}), in canonical text, never a bare IP (Calico 3.33 rejects those)
 * and never an address that cannot belong to a pod.
 */
public final class Cidrs {

    private Cidrs() {
    }

    /**
     * Normalizes a pod IP (or a single-host CIDR) to its canonical host CIDR.
     *
     * @throws IllegalArgumentException when the text is not an IP literal, names a network wider than one
     *                                  host, or is an address no pod can hold (unspecified, loopback,
     *                                  multicast, link-local)
     */
    public static String normalize(String ip) {
        if (ip == null || ip.isBlank()) {
            throw new IllegalArgumentException("empty IP address");
        }
        String text = ip.trim();
        String prefix = null;
        int slash = text.indexOf('/');
        if (slash >= 0) {
            prefix = text.substring(slash + 1);
            text = text.substring(0, slash);
        }
        InetAddress address = parseLiteral(text, ip);
        int bits = address instanceof Inet4Address ? 32 : 128;
        if (prefix != null && !prefix.equals(Integer.toString(bits))) {
            throw new IllegalArgumentException("not a single-host CIDR: " + ip);
        }
        if (address.isAnyLocalAddress() || address.isLoopbackAddress() || address.isMulticastAddress()
                || address.isLinkLocalAddress()) {
            throw new IllegalArgumentException("not a pod address: " + ip);
        }
        return canonical(address) + "/" + bits;
    }

    /** Like {@link #normalize(String)} but empty for anything that is not a reservable pod address. */
    public static Optional<String> tryNormalize(String ip) {
        try {
            return Optional.of(normalize(ip));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The address part of a normalized CIDR, for logs and events. */
    public static String address(String cidr) {
        int slash = cidr.indexOf('/');
        return slash < 0 ? cidr : cidr.substring(0, slash);
    }

    private static InetAddress parseLiteral(String text, String original) {
        // InetAddress.getByName would resolve host names; only accept literals.
        boolean v4 = text.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = text.indexOf(':') >= 0 && text.matches("[0-9A-Fa-f:.]+");
        if (!v4 && !v6) {
            throw new IllegalArgumentException("not an IP address: " + original);
        }
        if (v4) {
            for (String octet : text.split("\\.")) {
                if (Integer.parseInt(octet) > 255 || (octet.length() > 1 && octet.startsWith("0"))) {
                    throw new IllegalArgumentException("not an IP address: " + original);
                }
            }
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + original, e);
        }
    }

    private static String canonical(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        return compressIpv6(address.getAddress());
    }

    /** RFC 5952 text: lower case, leading zeros dropped, the longest run of two or more zero groups as "::". */
    private static String compressIpv6(byte[] bytes) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 0;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && groups[i] == 0) {
                i++;
            }
            if (i - start > bestLength) {
                bestStart = start;
                bestLength = i - start;
            }
        }
        if (bestLength < 2) {
            bestStart = -1;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString().toLowerCase(Locale.ROOT);
    }
}
