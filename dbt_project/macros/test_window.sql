{#-
    The generic data tests of an incremental build check the recent rows of the tables that grow with every hour.

    dbt wraps the model a generic test (unique, not_null, relationships, ...) reads in `get_where_subquery`. In a
    `dbt build` without `--full-refresh` (in pmi, only the hourly job's) this override keeps the rows of the hour-
    growing tables (`recent_rows_column` below) whose date is at most `incremental_lookback_days` before the
    table's newest: the rows that build could have changed or added. Older rows were tested by an earlier build,
    raw keys are unique at load (the simulator's ids; `pmi ingest` upserts by key), and every full-refresh build
    (`pmi run`, `retrain`, `full_pipeline`) tests every row. The singular tests (dbt_project/tests: the
    reconciliations with raw) never pass through here, so an incremental build still compares every day with raw.
    A test's own `where` config is kept.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set column = recent_rows_column(relation) -%}
    {%- if column and flags.WHICH == 'build' and not flags.FULL_REFRESH -%}
        {%- do conditions.append(
            'cast(' ~ column ~ ' as date) >= (select max(cast(' ~ column ~ ' as date)) from ' ~ relation ~ ') - '
            ~ incremental_lookback_days()
        ) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The time column of a table that grows with every hour (the raw facts' views and the incremental facts), or
    none: every other model is small or rebuilt whole, and its tests check every row. -#}
{% macro recent_rows_column(relation) -%}
    {%- set columns = {
        'stg_campaign_hourly': 'hour_ts',
        'stg_users': 'install_ts',
        'stg_revenue_events': 'event_ts',
        'fct_campaign_hourly': 'hour_ts',
        'int_campaign_daily': 'date',
        'int_user_revenue': 'event_ts',
    } -%}
    {%- do return(columns.get(relation.identifier if relation.identifier is defined else none)) -%}
{%- endmacro %}
