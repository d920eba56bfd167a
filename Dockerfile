# The Pingyi image: the worker and reviewctl. Built only from the project's own
# files and PyPI packages.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY storage storage
COPY directory directory
COPY service service
COPY config config
COPY cli cli
COPY migrations migrations
COPY worker.py ./
RUN pip install --no-cache-dir . && useradd --create-home pingyi
USER pingyi
ENV PINGYI_ENVIRONMENT=production PINGYI_LOG_FORMAT=json
CMD ["pingyi-worker"]
