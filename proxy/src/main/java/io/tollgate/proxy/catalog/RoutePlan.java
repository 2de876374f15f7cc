package io.tollgate.proxy.catalog;

import io.tollgate.proxy.upstream.UpstreamTarget;
import io.tollgate.schema.Model;
import io.tollgate.schema.Route;
import io.tollgate.schema.Upstream;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The order in which one request tries a model's upstreams: the enabled routes of the highest
 * {@code priority} first, drawn by {@code weight} without replacement, then the next priority the
 * same way. Within a priority a route of weight 0 is never tried while one of positive weight
 * exists there; when every route of the priority weighs 0 they are tried in random order, as if
 * they weighed the same. A route whose upstream is unknown, disabled or has no usable address is
 * left out.
 */
public final class RoutePlan {

    /** One upstream to try, with the name it knows the model by and where it lives. */
    public record Candidate(Route route, Upstream upstream, UpstreamTarget target) {
    }

    private RoutePlan() {
    }

    /** Every candidate, best first; empty when the model has no usable route. */
    public static List<Candidate> of(Catalog.Routing routing, Model model, RandomGenerator random) {
        List<Candidate> usable = new ArrayList<>(model.routes().size());
        for (Route r : model.routes()) {
            Upstream u = routing.upstreams().get(r.upstreamId());
            UpstreamTarget t = u == null ? null : routing.targets().get(u.id());
            if (u != null && u.enabled() && t != null) {
                usable.add(new Candidate(r, u, t));
            }
        }
        if (usable.size() <= 1) {
            return usable;                                  // the common case draws nothing
        }
        usable.sort(Comparator.comparingInt((Candidate c) -> c.upstream().priority()).reversed());
        List<Candidate> plan = new ArrayList<>(usable.size());
        int from = 0;
        while (from < usable.size()) {
            int priority = usable.get(from).upstream().priority();
            int to = from;
            while (to < usable.size() && usable.get(to).upstream().priority() == priority) {
                to++;
            }
            drawByWeight(usable.subList(from, to), random, plan);
            from = to;
        }
        return plan;
    }

    /** Appends the routes of one priority to {@code plan}, each draw weighted among those left. */
    private static void drawByWeight(List<Candidate> group, RandomGenerator random, List<Candidate> plan) {
        List<Candidate> left = new ArrayList<>(group.size());
        long total = 0;
        for (Candidate c : group) {
            if (c.upstream().weight() > 0) {
                left.add(c);
                total += c.upstream().weight();
            }
        }
        boolean equal = left.isEmpty();
        if (equal) {
            left.addAll(group);
            total = group.size();
        }
        while (!left.isEmpty()) {
            long pick = left.size() == 1 ? 0 : random.nextLong(total);
            for (int i = 0; i < left.size(); i++) {
                long w = equal ? 1 : left.get(i).upstream().weight();
                if (pick < w) {
                    plan.add(left.remove(i));
                    total -= w;
                    break;
                }
                pick -= w;
            }
        }
    }
}
