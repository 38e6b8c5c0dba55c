{#-
    Incremental runs of the large facts rebuild only recent days, so the hourly job's cost does not grow with the
    history. `incremental_lookback(date_expression)` is a WHERE clause for a model's source CTE: on an incremental
    run it keeps the rows whose date is at most `incremental_lookback_days` (dbt_project.yml, default 2) before the
    newest date the model already holds, so the newest day is rebuilt together with any late rows of the days before
    it; on a first or `--full-refresh` run it is empty and every row is built. `date_expression` must mean the same
    date on the source rows and on the model's own rows (`{{ this }}`); with an empty model every row is built.

    Rows older than the lookback are never revisited by an incremental run: a changed or re-simulated history needs
    `dbt build --full-refresh`, which every Dagster job except `hourly_allocation` passes
    (orchestration/warehouse/project.py, dbt_build_args).
-#}
{% macro incremental_lookback(date_expression) -%}
    {%- if is_incremental() %}
    where
        (select max({{ date_expression }}) from {{ this }}) is null
        or {{ date_expression }}
        >= (select max({{ date_expression }}) from {{ this }}) - {{ incremental_lookback_days() }}
    {%- endif -%}
{%- endmacro %}

{#- The lookback in whole days, checked: a non-negative integer (it is spliced into SQL). -#}
{% macro incremental_lookback_days() -%}
    {%- set days = var('incremental_lookback_days', 2) -%}
    {%- if days is not number or days < 0 or days != days | int -%}
        {{ exceptions.raise_compiler_error(
            "var incremental_lookback_days must be a whole number of days >= 0, got " ~ days
        ) }}
    {%- endif -%}
    {{ return(days | int) }}
{%- endmacro %}
