# zai-proxy as a small container image.
#   docker build -t z-ai-proxy .
#   docker run -p 3000:3000 z-ai-proxy                       (every setting passes through -e)
# Stage "build" compiles on Debian 12 and runs the unit tests; a failing test fails the build.
# The binary links libstdc++, OpenSSL and Boost statically (ZAI_STATIC_LINK: idle RSS under 10 MB,
# docs/PERFORMANCE.md). The final stage starts from nothing and receives only the stripped binary,
# the shared libraries it still links (libc, as ldd lists them, with the dynamic loader), the CA
# bundle, and passwd/group entries for its non-root user. docs/DEPLOY.md explains how to run it.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates cmake g++ libboost-json1.81-dev libboost1.81-dev libgtest-dev libssl-dev \
      ninja-build \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src/ src/
# What the unit tests read: shared test code and golden prompts, recorded upstream streams and
# requests, the tool-call corpus.
COPY test/unit/ test/unit/
COPY test/fixtures/ test/fixtures/
COPY test/tool-corpus/ test/tool-corpus/
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DZAI_STATIC_LINK=ON \
 && cmake --build build -j "$(nproc)" \
 && ctest --test-dir build --output-on-failure -j "$(nproc)"

# The runtime tree, assembled here because the final stage has no shell. The CA bundle also sits
# where OpenSSL's default paths look (/usr/lib/ssl), so no SSL_CERT_FILE is needed.
RUN set -eu; \
    mkdir -p /rootfs/usr/local/bin /rootfs/etc/ssl/certs /rootfs/usr/lib/ssl; \
    strip --strip-unneeded -o /rootfs/usr/local/bin/zai-proxy build/zai-proxy; \
    for lib in $(ldd build/zai-proxy | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do \
      mkdir -p "/rootfs$(dirname "$lib")"; \
      cp -L "$lib" "/rootfs$lib"; \
    done; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    ln -s /etc/ssl/certs/ca-certificates.crt /rootfs/usr/lib/ssl/cert.pem; \
    ln -s /etc/ssl/certs /rootfs/usr/lib/ssl/certs; \
    echo 'zai-proxy:x:65532:65532:zai-proxy:/nonexistent:/usr/sbin/nologin' > /rootfs/etc/passwd; \
    echo 'zai-proxy:x:65532:' > /rootfs/etc/group; \
    printf 'hosts: files dns\n' > /rootfs/etc/nsswitch.conf; \
    chroot /rootfs /usr/local/bin/zai-proxy --help > /dev/null

FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
# SIGTERM (docker stop, a rolling update): stop accepting, let streams in flight finish within
# 25 s, exit 0. Give it that long: `docker stop -t 30`, compose stop_grace_period, k8s
# terminationGracePeriodSeconds.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/zai-proxy", "--health-probe"]
ENTRYPOINT ["/usr/local/bin/zai-proxy"]
