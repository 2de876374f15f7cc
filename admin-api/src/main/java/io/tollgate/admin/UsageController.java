package io.tollgate.admin;

import io.tollgate.schema.UsageRow;
import io.tollgate.schema.UsageStore;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * {@code GET /usage?account_id=&from=&to=}: one account's requests, tokens and credits per UTC day
 * and model, with their totals. {@code from} is inclusive, {@code to} exclusive; each is a date (its
 * start in UTC) or an instant. {@code to} defaults to now and {@code from} to 30 days before {@code to}.
 */
final class UsageController {

    static final Duration DEFAULT_SPAN = Duration.ofDays(30);
    static final Duration MAX_SPAN = Duration.ofDays(366);

    private final AccountService accounts;
    private final UsageStore usage;
    private final Clock clock;

    UsageController(AccountService accounts, UsageStore usage, Clock clock) {
        this.accounts = accounts;
        this.usage = usage;
        this.clock = clock;
    }

    void routes(Router router) {
        router.get(AdminApi.BASE + "/usage", this::usage);
    }

    ApiResponse usage(ApiRequest request) {
        String accountId = request.queryParam("account_id");
        if (accountId == null || accountId.isEmpty()) {
            throw ApiException.invalidRequest("'account_id' is required");
        }
        Instant to = instant(request, "to");
        if (to == null) {
            to = clock.instant();
        }
        Instant from = instant(request, "from");
        if (from == null) {
            from = to.minus(DEFAULT_SPAN);
        }
        if (from.isAfter(to)) {
            throw ApiException.invalidRequest("'from' (" + from + ") must not be after 'to' (" + to + ")");
        }
        if (Duration.between(from, to).compareTo(MAX_SPAN) > 0) {
            throw ApiException.invalidRequest("'from' to 'to' must span at most " + MAX_SPAN.toDays() + " days");
        }
        accounts.get(accountId);
        List<UsageView> data = usage.daily(accountId, from, to).stream().map(UsageView::of).toList();
        return ApiResponse.ok(new UsageBody("list", data, Totals.of(data)));
    }

    /** A date ({@code 2026-11-25}, its start in UTC) or an instant ({@code 2026-11-25T10:00:00Z}); null when absent. */
    private static Instant instant(ApiRequest request, String name) {
        String raw = request.queryParam(name);
        if (raw == null || raw.isEmpty()) {
            return null;
        }
        // An unencoded '+' of an offset (+02:00) arrives as a space, which no valid value contains.
        String value = raw.replace(' ', '+');
        try {
            return value.indexOf('T') < 0
                    ? LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw ApiException.invalidRequest("'" + name + "' must be an ISO-8601 date (2026-11-25) or instant"
                    + " (2026-11-25T10:00:00Z), was '" + raw + "'");
        }
    }

    /** {@code {"object":"list","data":[…],"totals":{…}}}. */
    record UsageBody(String object, List<UsageView> data, Totals totals) {
    }

    record UsageView(LocalDate date, String model, long requests, long successfulRequests, long inputTokens,
                     long outputTokens, BigDecimal credits) {
        static UsageView of(UsageRow r) {
            return new UsageView(r.date(), r.model(), r.requests(), r.successfulRequests(), r.inputTokens(),
                    r.outputTokens(), r.credits());
        }
    }

    record Totals(long requests, long successfulRequests, long inputTokens, long outputTokens, BigDecimal credits) {
        static Totals of(List<UsageView> rows) {
            long requests = 0;
            long successful = 0;
            long input = 0;
            long output = 0;
            BigDecimal credits = BigDecimal.ZERO;
            for (UsageView r : rows) {
                requests += r.requests();
                successful += r.successfulRequests();
                input += r.inputTokens();
                output += r.outputTokens();
                credits = credits.add(r.credits());
            }
            return new Totals(requests, successful, input, output, credits);
        }
    }
}
