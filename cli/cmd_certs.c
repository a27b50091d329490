/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll certs generate: a CA and a serving certificate for the webhook
 * Service (see certs/generate.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/generate.h"
#include "cli/cli.h"
#include "core/alloc.h"

#define MAX_EXTRA 64

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: plimsoll certs generate --service NAME --namespace NS --out DIR\n"
            "                               [--days N] [--dns NAME|IP]...\n"
            "                               [--ca-cert FILE --ca-key FILE | --write-ca-key]\n\n"
            "Writes DIR/ca.crt, DIR/tls.crt and DIR/tls.key (mode 0600): a CA and an ECDSA\n"
            "P-256 serving certificate for NAME.NS.svc and NAME.NS.svc.cluster.local, plus\n"
            "every --dns name or IP address. --days defaults to 365.\n\n"
            "  --write-ca-key        also write the new CA's key to DIR/ca.key (mode 0600),\n"
            "                        so that later serving certificates can reuse the CA\n"
            "  --ca-cert, --ca-key   sign with this existing CA instead of a new one: only\n"
            "                        the serving certificate is renewed, DIR/ca.crt is a copy\n"
            "                        of the CA, and the webhook's caBundle stays valid\n");
}

static int parse_days(const char *s, int *ret)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > 36500) {
        return -1;
    }
    *ret = (int)v;
    return 0;
}

int pl_cmd_certs(int argc, char **argv)
{
    static const struct option options[] = {
        {"service", required_argument, NULL, 's'}, {"namespace", required_argument, NULL, 'n'},
        {"out", required_argument, NULL, 'o'},     {"days", required_argument, NULL, 'd'},
        {"dns", required_argument, NULL, 'D'},     {"ca-cert", required_argument, NULL, 'C'},
        {"ca-key", required_argument, NULL, 'K'},  {"write-ca-key", no_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    if (argc < 2 || strcmp(argv[1], "generate") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return PL_EXIT_OK;
        }
        usage(stderr);
        return PL_EXIT_USAGE;
    }
    const char *extra[MAX_EXTRA + 1] = {NULL};
    size_t n_extra = 0;
    struct pl_certs_request req = {.days = 365, .extra_san = extra};
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", options, NULL)) != -1) {
        switch (c) {
        case 's':
            req.service = optarg;
            break;
        case 'n':
            req.namespace_ = optarg;
            break;
        case 'o':
            req.out_dir = optarg;
            break;
        case 'd':
            if (parse_days(optarg, &req.days) < 0) {
                fprintf(stderr,
                        "plimsoll certs generate: --days must be a number from 1 to 36500\n");
                return PL_EXIT_USAGE;
            }
            break;
        case 'D':
            if (n_extra == MAX_EXTRA) {
                fprintf(stderr, "plimsoll certs generate: at most %d --dns names\n", MAX_EXTRA);
                return PL_EXIT_USAGE;
            }
            extra[n_extra++] = optarg;
            break;
        case 'C':
            req.ca_cert_path = optarg;
            break;
        case 'K':
            req.ca_key_path = optarg;
            break;
        case 'W':
            req.write_ca_key = true;
            break;
        case 'h':
            usage(stdout);
            return PL_EXIT_OK;
        default:
            usage(stderr);
            return PL_EXIT_USAGE;
        }
    }
    if (optind < argc - 1) {
        fprintf(stderr, "plimsoll certs generate: unexpected argument \"%s\"\n", argv[optind + 1]);
        return PL_EXIT_USAGE;
    }
    struct pl_error err;
    pl_error_init(&err);
    if (pl_certs_generate(&req, &err) < 0) {
        char text[1024];
        fprintf(stderr, "plimsoll certs generate: %s\n", pl_error_format(&err, text, sizeof(text)));
        return PL_EXIT_USAGE;
    }
    if (req.ca_cert_path) {
        printf("wrote %s/tls.crt, %s/tls.key (valid %d days), signed by the CA of %s (copied to "
               "%s/ca.crt)\n",
               req.out_dir, req.out_dir, req.days, req.ca_cert_path, req.out_dir);
    } else {
        printf("wrote %s/ca.crt, %s%s%s/tls.crt, %s/tls.key (valid %d days)\n", req.out_dir,
               req.write_ca_key ? req.out_dir : "", req.write_ca_key ? "/ca.key, " : "",
               req.out_dir, req.out_dir, req.days);
    }
    return PL_EXIT_OK;
}
