from django.db import migrations


class Migration(migrations.Migration):
    """The analysis definitions, jobs and results (and their history) leave this app's state
    for the jobs app's (jobs 0001, which comes first); their tables stay where they are."""

    dependencies = [
        ("characterization", "0006_void_records_and_result_history"),
        ("jobs", "0001_analysis_models_from_characterization"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="analysisjob",
                    name="definition",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisjob",
                    name="definition",
                ),
                migrations.RemoveField(
                    model_name="analysisjob",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="analysisjob",
                    name="measurement",
                ),
                migrations.RemoveField(
                    model_name="analysisjob",
                    name="raw_file",
                ),
                migrations.RemoveField(
                    model_name="analysisjob",
                    name="result",
                ),
                migrations.RemoveField(
                    model_name="analysisjob",
                    name="voided_by",
                ),
                migrations.RemoveField(
                    model_name="analysisresult",
                    name="voided_by",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisjob",
                    name="result",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisdefinition",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisdefinition",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisjob",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisjob",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisjob",
                    name="measurement",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisjob",
                    name="raw_file",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisjob",
                    name="voided_by",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisresult",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalanalysisresult",
                    name="voided_by",
                ),
                migrations.DeleteModel(
                    name="AnalysisDefinition",
                ),
                migrations.DeleteModel(
                    name="AnalysisJob",
                ),
                migrations.DeleteModel(
                    name="AnalysisResult",
                ),
                migrations.DeleteModel(
                    name="HistoricalAnalysisDefinition",
                ),
                migrations.DeleteModel(
                    name="HistoricalAnalysisJob",
                ),
                migrations.DeleteModel(
                    name="HistoricalAnalysisResult",
                ),
            ],
            database_operations=[],
        ),
    ]
