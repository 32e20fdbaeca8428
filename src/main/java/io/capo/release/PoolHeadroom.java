package io.capo.release;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How many addresses of each Calico IPPool may be parked at once, so that reservations never starve a pool.
 * Pure: built from the pools' CIDRs (read from the cluster by an adapter) and a cap in percent of each pool.
 *
 * @param pools the pools, most specific (longest prefix) first; an address belongs to the first pool containing it
 */
public record PoolHeadroom(List<Pool> pools) {

    /** No pools known: the rule releases nothing. */
    public static final PoolHeadroom NONE = new PoolHeadroom(List.of());

    /**
     * One pool.
     *
     * @param cidr     the pool's CIDR as Calico stores it, e.g. {@code 10.244.0.0/16}
     * @param capacity the pool's number of addresses (saturated at {@link Long#MAX_VALUE} for large IPv6 pools)
     * @param cap      most addresses of the pool parked at once
     */
    public record Pool(String cidr, long capacity, long cap) {
        public Pool {
            Objects.requireNonNull(cidr, "cidr");
            if (capacity <= 0 || cap < 0) {
                throw new IllegalArgumentException("pool " + cidr + ": capacity must be > 0 and cap >= 0, got "
                        + capacity + " and " + cap);
            }
        }
    }

    public PoolHeadroom {
        pools = pools.stream().sorted(Comparator.comparingInt((Pool p) -> prefix(p.cidr())).reversed()).toList();
    }

    /**
     * Pools with a cap of {@code percent} of their addresses each (rounded down, so a cap never exceeds the share).
     *
     * @param cidrs   the pools' CIDRs; malformed ones are an error naming them
     * @param percent 0 < percent <= 100
     */
    public static PoolHeadroom ofPercent(List<String> cidrs, double percent) {
        if (!(percent > 0 && percent <= 100)) {
            throw new IllegalArgumentException("pool headroom percent must be > 0 and <= 100, got " + percent);
        }
        List<Pool> pools = new ArrayList<>(cidrs.size());
        for (String cidr : cidrs) {
            long capacity = capacity(cidr);
            long cap = capacity == Long.MAX_VALUE ? Long.MAX_VALUE
                    : BigInteger.valueOf(capacity).multiply(BigInteger.valueOf(Math.round(percent * 1_000_000)))
                    .divide(BigInteger.valueOf(100_000_000L)).longValueExact();
            pools.add(new Pool(cidr, capacity, cap));
        }
        return new PoolHeadroom(pools);
    }

    /** The pool holding {@code entry} (an address or CIDR such as {@code 10.0.0.7/32}), if any. */
    public Optional<Pool> poolOf(String entry) {
        byte[] address = bytes(entry.substring(0, slash(entry)));
        for (Pool pool : pools) {
            if (contains(pool.cidr(), address)) {
                return Optional.of(pool);
            }
        }
        return Optional.empty();
    }

    /** Number of addresses in {@code cidr}, saturated at {@link Long#MAX_VALUE}. */
    public static long capacity(String cidr) {
        int bits = bytes(cidr.substring(0, slash(cidr))).length * 8;
        int hostBits = bits - prefix(cidr);
        return hostBits >= 63 ? Long.MAX_VALUE : 1L << hostBits;
    }

    private static boolean contains(String cidr, byte[] address) {
        byte[] network = bytes(cidr.substring(0, slash(cidr)));
        if (network.length != address.length) {
            return false;
        }
        int prefix = prefix(cidr);
        for (int i = 0; i < prefix; i++) {
            int mask = 0x80 >>> (i % 8);
            if ((network[i / 8] & mask) != (address[i / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    private static int slash(String cidr) {
        int slash = cidr.indexOf('/');
        return slash < 0 ? cidr.length() : slash;
    }

    private static int prefix(String cidr) {
        int slash = cidr.indexOf('/');
        int bits = bytes(cidr.substring(0, slash(cidr))).length * 8;
        if (slash < 0) {
            return bits;
        }
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + cidr + "' is not a CIDR");
        }
        if (prefix < 0 || prefix > bits) {
            throw new IllegalArgumentException("'" + cidr + "' has a prefix outside 0.." + bits);
        }
        return prefix;
    }

    /** Parses an IP literal only (no name lookup: anything but digits, dots, hex and colons is refused). */
    private static byte[] bytes(String ip) {
        if (ip.isEmpty() || !ip.matches("[0-9a-fA-F.:]+") || (!ip.contains(":") && !ip.matches("\\d{1,3}(\\.\\d{1,3}){3}"))) {
            throw new IllegalArgumentException("'" + ip + "' is not an IP address");
        }
        try {
            return InetAddress.getByName(ip).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + ip + "' is not an IP address");
        }
    }
}
