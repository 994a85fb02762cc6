# The tutor bot as a container: non-root, data on a volume, health from the bot's heartbeat.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY content ./content
COPY storage ./storage
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app tutor \
    && mkdir -p /app/data && chown tutor /app/data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
USER tutor
ENV DATA_DIR=/app/data PYTHONUNBUFFERED=1
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s CMD ["tutorbot", "health"]
ENTRYPOINT ["tutorbot"]
CMD ["run"]
