# The bundled fake Z.AI (test/fake-zai) as an image, for the offline demo in docker-compose.yml
# (profile "demo"). It answers on loopback only, so it shares the proxy's network namespace.
#   docker build -f deploy/fake-zai.Dockerfile -t z-ai-proxy-fake-zai .
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/zai-proxy
# ES modules ("type": "module" in test/package.json); the recorded streams in test/fixtures/sse.
COPY test/package.json test/
COPY test/fake-zai/ test/fake-zai/
COPY test/fixtures/ test/fixtures/
USER 65532:65532
ENTRYPOINT ["node", "test/fake-zai/server.js"]
# No captcha: the demo has no captcha provider.
CMD ["--host", "127.0.0.1", "--port", "8089", "--no-captcha"]
